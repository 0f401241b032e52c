"""The `check` command end to end: exit codes, outputs, configuration, suppressions and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args))
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args))
    finally:
        os.chdir(old)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / "clean.py").write_text("import asyncio\n\nasync def ok():\n    await asyncio.sleep(1)\n")
    return tmp_path


def test_findings_exit_1_with_code_frame(project):
    result = run("check", str(project))
    assert result.exit_code == 1, result.output
    assert "AL101" in result.output
    assert "4 |     time.sleep(1)" in result.output
    assert "^^^^^^^^^^^^^ AL101" in result.output
    assert "help: use `await asyncio.sleep(...)`" in result.output
    assert "Found 1 finding (1 fixable with --fix) in 2 files" in result.output


def test_clean_exit_0(project):
    result = run("check", str(project / "clean.py"))
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.output


def test_exit_zero(project):
    assert run("check", "--exit-zero", str(project)).exit_code == 0


def test_json_output_is_ruff_shaped(project):
    result = run("check", "--output-format", "json", str(project))
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data == [
        {
            "code": "AL101",
            "name": "blocking-sleep",
            "message": data[0]["message"],
            "filename": str((project / "app.py").resolve()),
            "location": {"row": 4, "column": 5},
            "end_location": {"row": 4, "column": 18},
            "fix": {
                "applicability": "safe",
                "message": "Replace with `await asyncio.sleep(...)`",
                "edits": [
                    {"content": "await asyncio.sleep(1)", "location": {"row": 4, "column": 5},
                     "end_location": {"row": 4, "column": 18}},
                    {"content": "import asyncio\n", "location": {"row": 2, "column": 1},
                     "end_location": {"row": 2, "column": 1}},
                ],
            },
            "url": "https://github.com/OWNER/async-lint/blob/main/docs/rules.md#al101-blocking-sleep",
            "noqa_row": 4,
        }
    ]
    assert "time.sleep()" in data[0]["message"]


def test_github_output(project):
    result = run("check", "--output-format", "github", str(project / "app.py"))
    assert result.output.startswith("::error file=")
    assert ",line=4,col=5," in result.output and "title=AL101::" in result.output


def test_concise_output(project):
    result = run("check", "--output-format", "concise", str(project / "app.py"))
    assert result.output.splitlines()[0].endswith("AL101 [*] `time.sleep()` blocks the event loop in `async def handler`: "
                                                  "it suspends the thread that runs every coroutine")


def test_select_ignore_and_prefix(project):
    assert run("check", "--select", "AL102", str(project)).exit_code == 0
    assert run("check", "--select", "AL1", str(project)).exit_code == 1
    assert run("check", "--ignore", "AL101", str(project)).exit_code == 0


def test_unknown_code_is_a_usage_error(project):
    result = run("check", "--select", "AL999", str(project))
    assert result.exit_code == 2
    assert "unknown rule code or prefix `AL999`" in result.output


def test_missing_path_is_a_usage_error(tmp_path):
    result = run("check", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "path does not exist" in result.output


def test_noqa_and_statistics(project):
    (project / "app.py").write_text(BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: AL101"))
    assert run("check", str(project)).exit_code == 0
    (project / "other.py").write_text(BLOCKING)
    result = run("check", "--statistics", str(project))
    assert result.exit_code == 1
    assert "    1  AL101  blocking-sleep  (1 suppressed)" in result.output


def test_noqa_for_another_code_does_not_suppress(project):
    (project / "app.py").write_text(BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: AL102"))
    assert run("check", str(project)).exit_code == 1


def test_skip_file(project):
    (project / "app.py").write_text("# async-lint: skip-file\n" + BLOCKING)
    assert run("check", str(project)).exit_code == 0


def test_config_from_pyproject(project):
    (project / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.async-lint]
        ignore = ["AL101"]
    """))
    assert run("check", str(project)).exit_code == 0
    # The command line overrides the file.
    assert run("check", "--select", "AL101", str(project)).exit_code == 1


def test_per_file_ignores(project):
    (project / "pyproject.toml").write_text('[tool.async-lint]\nper-file-ignores = { "app.py" = ["AL1"] }\n')
    assert run("check", str(project)).exit_code == 0


def test_extend_blocking_calls(project):
    (project / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.async-lint.extend-blocking-calls]
        "mycompany.sdk.fetch" = { code = "AL102", suggest = "use mycompany.sdk.afetch" }
    """))
    (project / "app.py").write_text("from mycompany import sdk\n\nasync def h():\n    sdk.fetch(1)\n")
    result = run("check", "--output-format", "concise", str(project))
    assert result.exit_code == 1
    assert "AL102 `sdk.fetch()`" in result.output


@pytest.mark.parametrize(
    "body, message",
    [
        ("[tool.async-lint]\nselct = ['AL1']\n", "unknown key `selct`"),
        ("[tool.async-lint]\nselect = 'AL1'\n", "`select` must be a list"),
        ("[tool.async-lint]\nselect = ['AL9']\n", "unknown rule code or prefix `AL9`"),
        ("[tool.async-lint\n", "not valid TOML"),
        ('[tool.async-lint.extend-blocking-calls]\n"x.y" = { code = "AL201", suggest = "z" }\n', "AL101-AL106"),
    ],
)
def test_bad_config_exits_2_naming_the_key(project, body, message):
    (project / "pyproject.toml").write_text(body)
    result = run("check", str(project))
    assert result.exit_code == 2
    assert message in result.output


def test_bad_files_are_named_once_and_good_ones_still_linted(tmp_path):
    (tmp_path / "syntax.py").write_text("async def f(:\n    pass\n")
    (tmp_path / "latin.py").write_bytes(b'async def f():\n    x = "\xff"\n')
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "good.py").write_text(BLOCKING)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    result = run("check", "--output-format", "json", str(tmp_path))
    assert result.exit_code == 1
    data = json.loads(result.output)
    by_file = {Path(d["filename"]).name: d for d in data}
    assert sorted(by_file) == ["dangling.py", "good.py", "latin.py", "syntax.py"]
    assert [d["code"] for d in data].count("AL001") == 3
    assert by_file["good.py"]["code"] == "AL101"
    assert by_file["syntax.py"]["location"]["row"] == 1 and "syntax error" in by_file["syntax.py"]["message"]
    assert "not valid utf-8" in by_file["latin.py"]["message"]
    assert "broken symlink" in by_file["dangling.py"]["message"]


def test_pep263_cookie_is_honoured(tmp_path):
    (tmp_path / "cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n"
                                         b"    s = 'caf\xe9'\n    time.sleep(1)\n")
    result = run("check", "--output-format", "concise", str(tmp_path))
    assert "cookie.py:5:5: AL101" in result.output


def test_gitignore_and_default_excludes(project):
    (project / ".gitignore").write_text("generated/\n")
    for folder in ("generated", ".venv", "node_modules"):
        (project / folder).mkdir()
        (project / folder / "x.py").write_text(BLOCKING)
    result = run("check", "--output-format", "concise", str(project))
    assert result.output.count("AL101") == 1


def test_rules_and_rule_commands():
    listing = run("rules")
    assert listing.exit_code == 0 and "AL105" in listing.output and "blocking-database-io" in listing.output
    page = run("rule", "AL105")
    assert page.exit_code == 0
    assert "Why is this bad?" in page.output and "db.query(User).all()" in page.output
    assert run("rule", "AL999").exit_code == 2


def test_python_dash_m(project):
    proc = subprocess.run([sys.executable, "-m", "async_lint", "check", "--output-format", "concise", str(project)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "AL101" in proc.stdout


def test_parallel_run_matches_serial(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i:02}.py").write_text(BLOCKING * (1 + i % 3))
    serial = run("check", "--output-format", "json", "--jobs", "1", str(tmp_path))
    parallel = run("check", "--output-format", "json", "--jobs", "2", str(tmp_path))
    assert serial.output == parallel.output
    assert len(json.loads(serial.output)) == sum(1 + i % 3 for i in range(40))


def test_cache_is_used_and_invalidated(project):
    first = run("check", "--output-format", "json", str(project))
    cache = project / ".async_lint_cache"
    assert cache.is_dir() and (cache / ".gitignore").read_text().strip().endswith("*")
    again = run("check", "--output-format", "json", str(project))
    assert again.output == first.output
    (project / "app.py").write_text(BLOCKING.replace("time.sleep(1)", "time.sleep(2)\n    time.sleep(3)"))
    changed = json.loads(run("check", "--output-format", "json", str(project)).output)
    assert [d["location"]["row"] for d in changed] == [4, 5]


def test_cache_follows_changes_in_other_modules(tmp_path):
    """A cached file's cross-module findings change when the module it calls changes."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def helper():\n    return 1\n")
    (pkg / "main.py").write_text("from .helpers import helper\n\nasync def f():\n    helper()\n")
    assert run("check", str(tmp_path)).exit_code == 0
    (pkg / "helpers.py").write_text("async def helper():\n    return 1\n")
    result = run("check", "--output-format", "concise", str(tmp_path))
    assert result.exit_code == 1 and "main.py:4:5: AL201" in result.output
    (pkg / "helpers.py").write_text("import time\n\ndef helper():\n    time.sleep(1)\n")
    result = run("check", "--output-format", "concise", str(tmp_path))
    assert "main.py:4:5: AL107" in result.output and "AL201" not in result.output


def test_no_cache_and_clean(project):
    run("check", "--no-cache", str(project))
    assert not (project / ".async_lint_cache").exists()
    run("check", str(project))
    assert (project / ".async_lint_cache").exists()
    result = run("clean", str(project))
    assert result.exit_code == 0 and "Removed" in result.output
    assert not (project / ".async_lint_cache").exists()


def test_exclude_skips_walked_folders_but_not_one_named_explicitly(project):
    (project / "pyproject.toml").write_text('[tool.async-lint]\nextend-exclude = ["generated"]\n')
    (project / "generated").mkdir()
    (project / "generated" / "x.py").write_text(BLOCKING)
    walked = run("check", "--output-format", "json", str(project))
    assert [Path(f["filename"]).name for f in json.loads(walked.output)] == ["app.py"]
    named = run("check", "--output-format", "json", str(project / "generated"))
    assert [Path(f["filename"]).name for f in json.loads(named.output)] == ["x.py"]
