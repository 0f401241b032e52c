"""The flake8 plugin, tested through the real `flake8` command: same findings as `async-lint check`, flake8's noqa,
options from the command line and from flake8's configuration, and silence on files that do not parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"


def flake8(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120)


def parse(output: str) -> list[tuple[str, int, int, str, str]]:
    rows = []
    for line in output.splitlines():
        path, row, col, code, text = line.split("|", 4)
        rows.append((Path(path).name, int(row), int(col), code, text))
    return sorted(rows)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(BLOCKING)
    return tmp_path


def test_plugin_is_registered_under_AL():
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "async-lint:" in proc.stdout


def test_same_findings_as_check_on_every_fixture(monkeypatch):
    """flake8 (which applies noqa itself) and `async-lint check` agree on every rule fixture, row, column, code
    and message."""
    fixtures = sorted(str(p) for p in FIXTURES.glob("AL*.py"))
    assert fixtures
    proc = flake8("--select", "AL", f"--format={FORMAT}", *fixtures, cwd=FIXTURES)
    assert proc.returncode == 1, proc.stderr
    from_flake8 = parse(proc.stdout)

    # flake8 sees one file at a time, so `check` is asked about each file alone too (a client closed in
    # another fixture is "closed in the project" only when both are linted together).
    from click.testing import CliRunner

    from async_lint.cli import cli

    from_check = []
    monkeypatch.chdir(FIXTURES)  # as flake8 ran: messages name other files relative to the working folder
    for fixture in fixtures:
        check = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", fixture])
        assert check.exit_code in (0, 1), check.output
        from_check += [(Path(f["filename"]).name, f["location"]["row"], f["location"]["column"], f["code"],
                        f["message"]) for f in json.loads(check.output)]
    from_check.sort()
    assert from_flake8 == from_check
    assert {code for _, _, _, code, _ in from_flake8} >= {"AL101", "AL102", "AL103", "AL104", "AL105", "AL106"}


def test_columns_are_flake8s(project):
    proc = flake8("--select", "AL", "app.py", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.startswith("app.py:4:5: AL101 `time.sleep()` blocks the event loop in `async def handler`")


def test_noqa_is_flake8s(project):
    (project / "app.py").write_text(BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: AL101"))
    assert flake8("--select", "AL", "app.py", cwd=project).stdout == ""
    # The plugin itself hands the finding over: with flake8's noqa handling off it shows.
    disabled = flake8("--select", "AL", "--disable-noqa", "app.py", cwd=project)
    assert "app.py:4:5: AL101" in disabled.stdout
    (project / "app.py").write_text(BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: E501"))
    assert "AL101" in flake8("--select", "AL", "app.py", cwd=project).stdout


def test_flake8_select_and_ignore_apply(project):
    assert flake8("--select", "F", "app.py", cwd=project).stdout == ""
    assert flake8("--select", "AL", "--extend-ignore", "AL101", "app.py", cwd=project).stdout == ""
    assert "AL101" in flake8("app.py", cwd=project).stdout  # flake8 turns registered plugins on by default


def test_unparsable_file_yields_only_flake8s_syntax_error(project):
    (project / "broken.py").write_text("import time\nasync def f(:\n    time.sleep(1)\n")
    proc = flake8("--select", "AL,E9", "broken.py", "app.py", cwd=project)
    lines = proc.stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("broken.py")] == ["E999"]
    assert any(line.startswith("app.py:4:5: AL101") for line in lines)


def test_plugin_itself_yields_nothing_for_unparsable_source(tmp_path):
    from async_lint.flake8_plugin import AsyncLintPlugin

    path = tmp_path / "broken.py"
    path.write_text("import time\nasync def f(:\n    time.sleep(1)\n")
    assert list(AsyncLintPlugin(None, str(path), path.read_text().splitlines(True)).run()) == []


def test_options_on_the_command_line(project):
    assert flake8("--select", "AL", "--async-lint-ignore", "AL101", "app.py", cwd=project).stdout == ""
    assert flake8("--select", "AL", "--async-lint-select", "AL102,AL103", "app.py", cwd=project).stdout == ""
    proc = flake8("--select", "AL", "--async-lint-select", "AL9", "app.py", cwd=project)
    assert proc.returncode == 2
    assert "--async-lint-select: unknown rule code or prefix `AL9`" in proc.stderr


@pytest.mark.parametrize("config_name", [".flake8", "setup.cfg", "tox.ini"])
def test_options_from_flake8_config(project, config_name):
    (project / config_name).write_text("[flake8]\nselect = AL\nasync-lint-ignore = AL101\n")
    assert flake8("app.py", cwd=project).stdout == ""
    (project / config_name).write_text("[flake8]\nselect = AL\nasync-lint-select = AL1\n")
    assert "AL101" in flake8("app.py", cwd=project).stdout


def test_async_lint_config_is_honoured(project):
    (project / "pyproject.toml").write_text('[tool.async-lint]\nignore = ["AL101"]\n')
    assert flake8("--select", "AL", "app.py", cwd=project).stdout == ""
    other = project / "other.toml"
    other.write_text('select = ["AL1"]\n')
    proc = flake8("--select", "AL", f"--async-lint-config={other}", "app.py", cwd=project)
    assert "app.py:4:5: AL101" in proc.stdout


def test_bad_async_lint_config_is_a_clear_error(project):
    (project / "pyproject.toml").write_text("[tool.async-lint]\nselct = ['AL1']\n")
    proc = flake8("--select", "AL", "app.py", cwd=project)
    assert proc.returncode != 0
    assert "unknown key `selct`" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_stdin_with_display_name(project):
    proc = flake8("--select", "AL", "--stdin-display-name=app.py", "-", cwd=project, stdin=BLOCKING)
    assert proc.stdout.startswith("app.py:4:5: AL101")


def test_pep263_encoding_is_kept(tmp_path):
    (tmp_path / "cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n"
                                         b"    s = 'caf\xe9'\n    time.sleep(1)\n")
    proc = flake8("--select", "AL", "cookie.py", cwd=tmp_path)
    assert proc.stdout.startswith("cookie.py:5:5: AL101"), proc.stdout + proc.stderr


def test_many_files_in_parallel(tmp_path):
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(BLOCKING)
    proc = flake8("--select", "AL", "-j", "2", ".", cwd=tmp_path)
    assert proc.stdout.count("AL101") == 6, proc.stderr


def test_engine_keeps_noqa_findings_when_asked(tmp_path):
    from async_lint.engine import Linter
    from helpers import settings_for

    data = BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: AL101").encode()
    linter = Linter(settings_for("AL1", root=tmp_path))
    assert linter.lint_bytes("app.py", data).findings == []
    linter.respect_noqa = False
    kept = linter.lint_bytes("app.py", data)
    assert [(f.code, f.row) for f in kept.findings] == [("AL101", 4)] and kept.suppressed == {}


def test_a_crash_is_reported_not_raised(tmp_path, monkeypatch):
    from async_lint.engine import Linter
    from async_lint.flake8_plugin import AsyncLintPlugin

    def boom(self, *args, **kwargs):
        raise RuntimeError("walker bug")

    path = tmp_path / "app.py"
    path.write_text(BLOCKING)
    plugin = AsyncLintPlugin(None, str(path), BLOCKING.splitlines(True))
    monkeypatch.setattr(Linter, "lint_bytes", boom)
    assert [(row, col, text.split()[0]) for row, col, text, _ in plugin.run()] == [(1, 0, "AL002")]
