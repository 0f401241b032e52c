"""`async-lint check -` / `--stdin-filename`: lint, fix and diff the source read from standard input (as ruff)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
FIXED = "import time\nimport asyncio\n\nasync def handler():\n    await asyncio.sleep(1)\n"
UNFIXABLE = "import requests\n\nasync def handler():\n    requests.get('https://example.com', timeout=5)\n"


def run(args: list[str], source: str | bytes, cwd: Path) -> subprocess.CompletedProcess:
    data = source.encode() if isinstance(source, str) else source
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "async_lint", "check", "--no-cache", *args], input=data,
                          capture_output=True, cwd=cwd, env=env)


def test_dash_reads_stdin(tmp_path: Path):
    proc = run(["-"], BLOCKING, tmp_path)
    assert proc.returncode == 1
    assert "-:4:5: AL101" in proc.stdout.decode()
    assert run(["-"], FIXED, tmp_path).returncode == 0


def test_stdin_filename_names_the_findings_and_needs_no_file(tmp_path: Path):
    proc = run(["--stdin-filename", "app/routes.py", "--output-format", "json"], BLOCKING, tmp_path)
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)
    assert finding["code"] == "AL101"
    assert finding["filename"].endswith(os.path.join("app", "routes.py"))
    assert not (tmp_path / "app").exists()  # nothing read or written there
    # `-` with --stdin-filename is the same.
    proc = run(["-", "--stdin-filename", "app/routes.py", "--output-format", "concise"], BLOCKING, tmp_path)
    assert "app/routes.py:4:5: AL101" in proc.stdout.decode()


def test_stdin_uses_the_configuration_found_from_the_filename(tmp_path: Path):
    project = tmp_path / "project"
    (project / "legacy").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.async-lint]\nper-file-ignores = { "legacy/*" = ["AL1"] }\n')
    assert run(["--stdin-filename", "project/legacy/old.py"], BLOCKING, tmp_path).returncode == 0
    assert run(["--stdin-filename", "project/new.py"], BLOCKING, tmp_path).returncode == 1
    assert run(["--stdin-filename", "project/new.py", "--ignore", "AL101"], BLOCKING, tmp_path).returncode == 0


def test_stdin_frames_come_from_stdin_not_from_a_different_file_on_disk(tmp_path: Path):
    (tmp_path / "app.py").write_text("x = 1\n")  # the saved file differs from what the editor sends
    out = run(["--stdin-filename", "app.py"], BLOCKING, tmp_path).stdout.decode()
    assert "app.py:4:5: AL101" in out
    assert "x = 1" not in out


def test_fix_prints_the_fixed_source(tmp_path: Path):
    proc = run(["--fix", "--stdin-filename", "app.py"], BLOCKING, tmp_path)
    assert proc.stdout.decode() == FIXED
    assert "1 fixed, 0 remaining" in proc.stderr.decode()
    assert proc.returncode == 0
    assert not (tmp_path / "app.py").exists()


def test_fix_prints_the_source_unchanged_and_reports_what_remains(tmp_path: Path):
    proc = run(["--fix", "-", "--select", "AL102"], UNFIXABLE, tmp_path)
    assert proc.stdout.decode() == UNFIXABLE  # AL102's fix is unsafe: nothing applied
    assert "AL102" in proc.stderr.decode()
    assert proc.returncode == 1
    proc = run(["--fix", "-"], FIXED, tmp_path)
    assert (proc.stdout.decode(), proc.returncode) == (FIXED, 0)


def test_fix_keeps_bytes_encoding_and_line_endings(tmp_path: Path):
    source = ("# -*- coding: latin-1 -*-\r\nimport time\r\n\r\nasync def f():\r\n    time.sleep(1)  # caf\xe9\r\n"
              ).encode("latin-1")
    proc = run(["--fix", "-"], source, tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == ("# -*- coding: latin-1 -*-\r\nimport time\r\nimport asyncio\r\n\r\nasync def f():\r\n"
                           "    await asyncio.sleep(1)  # caf\xe9\r\n").encode("latin-1")


def test_diff_prints_the_diff(tmp_path: Path):
    proc = run(["--diff", "--stdin-filename", "app.py"], BLOCKING, tmp_path)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.startswith("--- app.py\n+++ app.py\n")
    assert "+    await asyncio.sleep(1)\n" in out
    proc = run(["--diff", "-"], FIXED, tmp_path)
    assert (proc.stdout, proc.returncode) == (b"", 0)


@pytest.mark.parametrize("args", [["-", "other.py"], ["-", "-"]])
def test_dash_with_other_paths_is_a_usage_error(tmp_path: Path, args: list[str]):
    proc = run(args, BLOCKING, tmp_path)
    assert proc.returncode == 2
    assert "cannot be combined" in proc.stderr.decode()


def test_stdin_filename_wins_over_paths(tmp_path: Path):
    (tmp_path / "other.py").write_text("x = 1\n")
    proc = run(["--stdin-filename", "app.py", "other.py", "--output-format", "concise"], BLOCKING, tmp_path)
    assert proc.returncode == 1
    assert "app.py:4:5: AL101" in proc.stdout.decode()
    assert "ignoring other.py in favor of standard input" in proc.stderr.decode()


def test_stdin_syntax_error(tmp_path: Path):
    proc = run(["--output-format", "concise", "-"], "import time\nasync def f(:\n    time.sleep(1)\n", tmp_path)
    assert proc.returncode == 1
    assert "AL001" in proc.stdout.decode()
