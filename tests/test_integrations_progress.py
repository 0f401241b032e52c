"""The summary line and the progress bar (shown on a real pseudo-terminal, and only there)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli
from async_lint.finding import Finding, FixInfo
from async_lint.progress import PROGRESS_THRESHOLD, wants_progress
from async_lint.reporters import summary_line

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def finding(fix: str | None = None) -> Finding:
    return Finding("AL101", "m", "a.py", 1, 1, 1, 2, fix=FixInfo(fix, "f") if fix else None)


@pytest.mark.parametrize("fixes, expected", [
    ([], "All checks passed! (143 files, 0.8 s)"),
    ([None], "Found 1 finding in 143 files, 0.8 s."),
    ([None] * 12, "Found 12 findings in 143 files, 0.8 s."),
    (["safe"] * 5 + ["unsafe"] * 3 + [None] * 4,
     "Found 12 findings (5 fixable with --fix, 3 more with --unsafe-fixes) in 143 files, 0.8 s."),
    (["safe", None], "Found 2 findings (1 fixable with --fix) in 143 files, 0.8 s."),
    (["unsafe", None], "Found 2 findings (1 fixable with --unsafe-fixes) in 143 files, 0.8 s."),
])
def test_summary_line(fixes, expected):
    findings = [finding(kind) for kind in fixes] if fixes else []
    assert summary_line(findings, 143, 0.81) == expected


def test_summary_line_single_file():
    assert summary_line([], 1, 0.04) == "All checks passed! (1 file, 0.0 s)"


def test_check_prints_the_summary(tmp_path):
    (tmp_path / "app.py").write_text(BLOCKING)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "app.py")])
    assert result.output.rstrip().splitlines()[-1].startswith("Found 1 finding (1 fixable with --fix) in 1 file, ")
    quiet = CliRunner().invoke(cli, ["check", "-q", str(tmp_path / "app.py")])
    assert "Found" not in quiet.output


def test_wants_progress_only_for_people_on_a_terminal(tmp_path):
    many = PROGRESS_THRESHOLD + 1
    with open(tmp_path / "plain", "w") as not_a_tty:
        assert not wants_progress(many, "full", stream=not_a_tty)
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as tty:
            assert wants_progress(many, "full", stream=tty)
            assert wants_progress(many, "concise", stream=tty)
            assert wants_progress(many, "statistics", stream=tty)
            assert not wants_progress(PROGRESS_THRESHOLD, "full", stream=tty)
            assert not wants_progress(many, "full", quiet=True, stream=tty)
            for fmt in ("json", "github", "sarif", "junit"):
                assert not wants_progress(many, fmt, stream=tty)
    finally:
        os.close(leader)
        os.close(follower)


def run_with_tty_stderr(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe); returns (exit code, stdout, terminal text)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "async_lint", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO once the child has closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = proc.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(leader)
    return proc.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def many_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    for i in range(PROGRESS_THRESHOLD + 5):
        (folder / f"m{i:03}.py").write_text(BLOCKING if i % 50 == 0 else "x = 1\n")
    return folder


def test_progress_bar_on_a_terminal(many_files):
    code, stdout, terminal = run_with_tty_stderr(["check", "--output-format", "concise", "."], many_files)
    assert code == 1
    assert "Linting" in terminal and f"/{PROGRESS_THRESHOLD + 5}" in terminal
    # The bar goes to stderr only; stdout holds the findings and the summary.
    assert "Linting" not in stdout
    assert f"Found 5 findings (5 fixable with --fix) in {PROGRESS_THRESHOLD + 5} files" in stdout


def test_no_progress_bar_for_machine_output_even_on_a_terminal(many_files):
    code, stdout, terminal = run_with_tty_stderr(["check", "--output-format", "json", "."], many_files)
    assert code == 1
    assert terminal == ""
    assert stdout.startswith("[")


def test_no_progress_bar_off_a_terminal(many_files):
    proc = subprocess.run([sys.executable, "-m", "async_lint", "check", "."], cwd=many_files, capture_output=True,
                          text=True, env={**os.environ, "FORCE_COLOR": "1"})
    assert proc.returncode == 1
    assert "Linting" not in proc.stderr and proc.stderr == ""
