"""Issue 12 (items 3 and 7, exit codes): no input blocks the run, every bad input is named, every internal
failure exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from async_lint.cli import cli

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def check(*args: str):
    return CliRunner().invoke(cli, ["check", "--no-cache", *args])


def run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI in a subprocess: a run that blocks fails the test instead of hanging the suite."""
    return subprocess.run([sys.executable, "-m", "async_lint", "check", "--no-cache", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def findings(output: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for finding in json.loads(output):
        out.setdefault(Path(finding["filename"]).name, []).append(finding)
    return out


# ----------------------------------------------------------------------------------------------- FIFOs (item 3)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_found_while_walking_is_skipped_and_does_not_block(tmp_path):
    (tmp_path / "good.py").write_text(BLOCKING)
    os.mkfifo(tmp_path / "pipe.py")
    started = time.monotonic()
    proc = run("--output-format", "json", "--jobs", "1", str(tmp_path), timeout=30)
    assert time.monotonic() - started < 30
    assert proc.returncode == 1, proc.stderr
    assert list(findings(proc.stdout)) == ["good.py"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_on_the_command_line_is_reported_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    proc = run("--output-format", "json", str(tmp_path / "pipe.py"), timeout=30)
    assert proc.returncode == 1, proc.stderr
    [finding] = findings(proc.stdout)["pipe.py"]
    assert finding["code"] == "AL001" and "not a regular file (a FIFO)" in finding["message"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_symlink_to_a_fifo_is_skipped_while_walking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link.py").symlink_to(tmp_path / "pipe")
    (tmp_path / "good.py").write_text(BLOCKING)
    proc = run("--output-format", "json", str(tmp_path), timeout=30)
    assert list(findings(proc.stdout)) == ["good.py"], proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_reading_a_file_swapped_for_a_fifo_after_discovery_does_not_block(tmp_path):
    """The reader checks the open descriptor (fstat after a non-blocking open): no race with discovery."""
    from async_lint.source import NotRegularFile, read_file

    os.mkfifo(tmp_path / "pipe.py")
    started = time.monotonic()
    with pytest.raises(NotRegularFile, match="FIFO"):
        read_file(str(tmp_path / "pipe.py"))
    assert time.monotonic() - started < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_gitignore_does_not_block(tmp_path):
    (tmp_path / ".git").mkdir()
    os.mkfifo(tmp_path / ".gitignore")
    (tmp_path / "good.py").write_text(BLOCKING)
    proc = run("--output-format", "json", str(tmp_path), timeout=30)
    assert list(findings(proc.stdout)) == ["good.py"], proc.stderr


def test_a_device_named_on_the_command_line_is_reported(tmp_path):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    result = check("--output-format", "json", "/dev/null")
    [finding] = findings(result.stdout)["null"]
    assert finding["code"] == "AL001" and "not a regular file (a character device)" in finding["message"]


# ------------------------------------------------------------------------------------------ symlink loops (item 7)
def test_a_looping_symlink_named_first_is_a_symlink_loop(tmp_path):
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    result = check("--output-format", "json", str(tmp_path / "loop.py"))
    assert result.exit_code == 1, result.output
    [finding] = findings(result.stdout)["loop.py"]
    assert finding["code"] == "AL001" and "symlink loop" in finding["message"]
    assert "does not exist" not in finding["message"]


def test_a_looping_symlink_found_while_walking_is_a_symlink_loop(tmp_path):
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "broken.py").symlink_to(tmp_path / "missing.py")
    result = check("--output-format", "json", str(tmp_path))
    files = findings(result.stdout)
    assert all("symlink loop" in files[name][0]["message"] for name in ("a.py", "b.py"))
    assert "broken symlink" in files["broken.py"][0]["message"]  # a broken one is still called broken


# ------------------------------------------------------------------------------------------ parse errors (item 7)
@pytest.mark.parametrize("select", [(), ("--select", "AL1,AL2"), ("--select", "ALL")])
def test_a_file_with_a_syntax_error_and_no_async_code_is_reported(tmp_path, select):
    (tmp_path / "broken.py").write_text("def total(items:\n    return sum(items)\n")
    (tmp_path / "fine.py").write_text("x = 1\n")
    result = check("--output-format", "json", *select, str(tmp_path))
    assert result.exit_code == 1, result.output
    [finding] = findings(result.stdout)["broken.py"]
    assert finding["code"] == "AL001" and finding["message"].startswith("syntax error")
    assert finding["location"]["row"] == 1


def test_the_parse_error_of_a_prefiltered_file_is_cached_with_its_result(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\n")
    (tmp_path / "broken.py").write_text("x = (\n")
    first = CliRunner().invoke(cli, ["check", "--output-format", "json", str(tmp_path)])
    second = CliRunner().invoke(cli, ["check", "--output-format", "json", str(tmp_path)])
    assert first.stdout == second.stdout and "AL001" in second.stdout


def test_a_file_without_async_code_that_parses_stays_clean(tmp_path):
    (tmp_path / "plain.py").write_text('PATTERN = "\\d+"\n\n\ndef f(x):\n    return x\n')  # SyntaxWarning only
    result = check(str(tmp_path))
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------- ignored named folder (item 7)
def test_a_gitignored_folder_named_on_the_command_line_is_linted(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("generated/\n*.tmp.py\n")
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "client.py").write_text(BLOCKING)
    (tmp_path / "generated" / "scratch.tmp.py").write_text(BLOCKING)
    result = check("--output-format", "json", str(tmp_path / "generated"))
    # The pattern that ignores the named folder does not apply inside it; the others still do.
    assert list(findings(result.stdout)) == ["client.py"], result.output
    assert list(findings(check("--output-format", "json", str(tmp_path)).stdout)) == []


def test_a_folder_inside_a_gitignored_folder_named_on_the_command_line_is_linted(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("out\n")
    (tmp_path / "out" / "pkg").mkdir(parents=True)
    (tmp_path / "out" / "pkg" / "app.py").write_text(BLOCKING)
    result = check("--output-format", "json", str(tmp_path / "out" / "pkg"))
    assert list(findings(result.stdout)) == ["app.py"], result.output


# --------------------------------------------------------------------------------- empty selection (item 7)
@pytest.mark.parametrize("option,value", [("--select", ""), ("--select", ","), ("--select", "AL1,"),
                                          ("--ignore", ""), ("--extend-select", "")])
def test_an_empty_rule_selector_is_an_error(tmp_path, option, value):
    (tmp_path / "app.py").write_text(BLOCKING)
    result = check(option, value, str(tmp_path))
    assert result.exit_code == 2
    assert f"empty rule selector in `{option}`" in result.stderr
    assert "All checks passed" not in result.output


# ------------------------------------------------------------------------------------------------ exit code 2
def test_an_unexpected_exception_outside_the_checks_exits_2(tmp_path, monkeypatch):
    import async_lint.cli as cli_module

    def boom(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(cli_module, "discover", boom)
    (tmp_path / "app.py").write_text(BLOCKING)
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert "internal error: KeyError: 'surprise'" in result.stderr and "--show-traceback" in result.stderr
    traced = check("--show-traceback", str(tmp_path))
    assert traced.exit_code == 2 and "Traceback" in traced.stderr


def test_an_unexpected_exception_exits_2_from_the_installed_command(tmp_path):
    """The console script, not only click's test runner: a crash in the reporter (a bad output stream)."""
    (tmp_path / "app.py").write_text(BLOCKING)
    code = ("import sys, async_lint.reporters as r\n"
            "def boom(*a, **k):\n    raise RuntimeError('reporter broke')\n"
            "r.summary_line = boom\nimport async_lint.cli as c\nc.summary_line = boom\n"
            "sys.argv = ['async-lint', 'check', '--no-cache', sys.argv[1]]\nc.main()\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "internal error: RuntimeError: reporter broke" in proc.stderr


def test_click_errors_that_click_ends_with_1_end_with_2(tmp_path, monkeypatch):
    import async_lint.cli as cli_module

    def fails(*args, **kwargs):
        raise click.FileError(str(tmp_path / "x"), "disk on fire")

    monkeypatch.setattr(cli_module, "discover", fails)
    result = check(str(tmp_path))
    assert result.exit_code == 2 and "disk on fire" in result.stderr


def test_ctrl_c_does_not_exit_1(tmp_path, monkeypatch):
    import async_lint.cli as cli_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "discover", interrupted)
    result = check(str(tmp_path))
    assert result.exit_code == 130


def test_usage_errors_still_exit_2():
    assert check("--jobs", "0").exit_code == 2
    assert CliRunner().invoke(cli, ["no-such-command"]).exit_code == 2
    assert CliRunner().invoke(cli, ["--help"]).exit_code == 0


@pytest.mark.parametrize("fmt", ["full", "json"])
def test_a_reader_that_goes_away_ends_the_run_with_2_not_1(tmp_path, fmt):
    """`async-lint check | head -1`: the output is cut short, which is not "findings"."""
    for i in range(150):
        (tmp_path / f"m{i:03}.py").write_text(BLOCKING * 20)
    proc = subprocess.Popen([sys.executable, "-m", "async_lint", "check", "--no-cache", "--jobs", "1",
                             "--output-format", fmt, str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    proc.stdout.read(100)
    proc.stdout.close()
    assert proc.wait(timeout=120) == 2
