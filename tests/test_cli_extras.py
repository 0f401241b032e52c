"""`check`'s ruff-named options: --add-noqa, --show-fixes, --fix-only, --exit-non-zero-on-fix, -o/--output-file,
--statistics with --output-format json, --force-exclude; the JSON output's rule names and documentation links.

Where ruff has the same flag, the test asserts ruff's semantics (exit codes, what is written, what is said); when
ruff is installed, `test_ruff_parity_*` run ruff itself on a file of its own and compare the behaviour."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli
from async_lint.cli_extras import merge_noqa

ROOT = Path(__file__).resolve().parent.parent
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n    time.sleep(2)  # noqa: AL999\n"
UNSAFE_ONLY = "import requests\n\n\nasync def handler():\n    requests.get('https://example.com', timeout=5)\n"


def run(*args: str, cwd: Path, input: str | None = None):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), input=input)
    finally:
        os.chdir(old)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.async-lint]\n"
                                             "extend-exclude = ['migrations']\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001.py").write_text(BLOCKING)
    return tmp_path


# ------------------------------------------------------------------------------------------------------ --add-noqa

def test_add_noqa_adds_and_merges_then_nothing_is_reported(project):
    result = run("check", "--add-noqa", "--no-cache", "app.py", cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # no report: only the count, on stderr (as ruff)
    assert result.stderr.strip() == "Added 2 noqa directives."
    assert (project / "app.py").read_text() == (
        "import time\n\n\nasync def handler():\n    time.sleep(1)  # noqa: AL101\n"
        "    time.sleep(2)  # noqa: AL101, AL999\n")
    again = run("check", "--no-cache", "app.py", cwd=project)
    assert again.exit_code == 0 and "All checks passed" in again.output
    # Nothing left to add: the file is not touched, nothing is said.
    third = run("check", "--add-noqa", "--no-cache", "app.py", cwd=project)
    assert third.exit_code == 0 and third.output == ""


def test_add_noqa_exit_0_keeps_line_endings_and_other_comments(tmp_path):
    (tmp_path / "app.py").write_bytes(b"import time  # a note\r\n\r\nasync def h():\r\n"
                                      b"    time.sleep(1)  # type: ignore\r\n")
    result = run("check", "--add-noqa", "--no-cache", "app.py", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "app.py").read_bytes() == (b"import time  # a note\r\n\r\nasync def h():\r\n"
                                                  b"    time.sleep(1)  # type: ignore  # noqa: AL101\r\n")


def test_add_noqa_never_writes_into_a_string_or_after_a_backslash(tmp_path):
    source = textwrap.dedent('''\
        import time


        async def h():
            time.sleep(len("""
            text"""))
            x = 1 + \\
                time.sleep(1)
        ''')
    (tmp_path / "app.py").write_text(source)
    result = run("check", "--add-noqa", "--no-cache", "app.py", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "app.py").read_text()
    assert '"""  # noqa' not in text and 'time.sleep(len("""\n' in text  # the string is unchanged
    assert "time.sleep(1)  # noqa: AL101" in text
    assert "cannot add a noqa comment there" in result.stderr


def test_add_noqa_conflicts_with_fix(project):
    result = run("check", "--add-noqa", "--fix", "app.py", cwd=project)
    assert result.exit_code == 2 and "cannot be used with --fix" in result.output


@pytest.mark.parametrize(("line", "codes", "expected"), [
    ("x = 1", {"AL101"}, "x = 1  # noqa: AL101"),
    ("x = 1 # noqa: E501", {"AL101"}, "x = 1 # noqa: AL101, E501"),
    ("x = 1  # noqa:AL202 because", {"AL101"}, "x = 1  # noqa: AL101, AL202 because"),
    ("x = 1  # noqa", {"AL101"}, None),  # a blanket noqa silences everything already
    ("x = 1  # noqa: AL101", {"AL101"}, None),
])
def test_merge_noqa(line, codes, expected):
    assert merge_noqa(line, codes) == expected


# ------------------------------------------------------------------------------- --fix-only, --exit-non-zero-on-fix

def test_fix_only_applies_fixes_reports_nothing_exit_0(project):
    (project / "left.py").write_text(UNSAFE_ONLY)  # an unsafe fix only: stays, and is not reported
    result = run("check", "--fix-only", "--no-cache", "app.py", "left.py", cwd=project)
    assert result.exit_code == 0, result.output
    assert "await asyncio.sleep(1)" in (project / "app.py").read_text()
    assert "AL1" not in result.output  # no finding is shown, fixed or remaining
    assert result.output.strip().endswith("Fixed 2 findings (1 additional fix available with --unsafe-fixes).")
    again = run("check", "--fix-only", "--no-cache", "left.py", cwd=project)
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "No findings fixed (1 fix available with --unsafe-fixes)."


def test_exit_non_zero_on_fix(project):
    result = run("check", "--fix-only", "--exit-non-zero-on-fix", "--no-cache", "app.py", cwd=project)
    assert result.exit_code == 1, result.output  # a fix was applied
    again = run("check", "--fix-only", "--exit-non-zero-on-fix", "--no-cache", "app.py", cwd=project)
    assert again.exit_code == 0, again.output  # nothing left to fix
    (project / "b.py").write_text(BLOCKING)
    fixed = run("check", "--fix", "--exit-non-zero-on-fix", "--no-cache", "b.py", cwd=project)
    assert fixed.exit_code == 1 and "0 remaining" in fixed.output  # --fix alone would exit 0 here
    (project / "c.py").write_text(BLOCKING)
    assert run("check", "--fix", "--no-cache", "c.py", cwd=project).exit_code == 0


# ---------------------------------------------------------------------------------------------------- --show-fixes

def test_show_fixes_lists_applied_fixes_per_file_and_rule(project):
    result = run("check", "--fix", "--show-fixes", "--no-cache", "app.py", cwd=project)
    assert result.exit_code == 0, result.output
    assert "Fixed 2 findings:\n- app.py:\n    2 × AL101 (blocking-sleep)\n" in result.output
    assert result.output.index("Fixed 2 findings:") < result.output.index("Found 2 findings (2 fixed")


def test_show_fixes_without_fix_lists_available_fixes(project):
    result = run("check", "--show-fixes", "--no-cache", "app.py", cwd=project)
    assert result.exit_code == 1
    assert "2 fixes available:\n- app.py:\n    2 × AL101 (blocking-sleep)\n" in result.output
    assert "await asyncio" not in (project / "app.py").read_text()  # nothing is written


def test_fix_only_show_fixes(project):
    result = run("check", "--fix-only", "--show-fixes", "--no-cache", "app.py", cwd=project)
    assert result.exit_code == 0
    assert "Fixed 2 findings:\n- app.py:\n    2 × AL101 (blocking-sleep)\n" in result.output


# --------------------------------------------------------------------------------------------------- --output-file

@pytest.mark.parametrize("flag", ["-o", "--output-file"])
def test_output_file_holds_the_report(project, flag):
    result = run("check", flag, "reports/out.txt", "--output-format", "concise", "app.py", cwd=project)
    assert result.exit_code == 1  # the exit code does not change
    assert result.stdout == ""
    text = (project / "reports" / "out.txt").read_text(encoding="utf-8")
    assert text.startswith("app.py:5:5: AL101 [*] ") and "Found 2 findings" in text


def test_output_file_json(project):
    result = run("check", "-o", "out.json", "--output-format", "json", "app.py", cwd=project)
    assert result.exit_code == 1 and result.stdout == ""
    data = json.loads((project / "out.json").read_text(encoding="utf-8"))
    assert [d["code"] for d in data] == ["AL101", "AL101"]


# ------------------------------------------------------------------------------------------ --statistics + json

def test_statistics_json_is_ruff_shaped(project):
    (project / "left.py").write_text(UNSAFE_ONLY)
    result = run("check", "--statistics", "--output-format", "json", "app.py", "left.py", cwd=project)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"code": "AL101", "name": "blocking-sleep", "count": 2, "fixable": True, "fixable_count": 2},
        {"code": "AL102", "name": "blocking-network-io", "count": 1, "fixable": False, "fixable_count": 0},
    ]


# -------------------------------------------------------------------------------------------------- --force-exclude

def test_force_exclude_applies_excludes_to_named_files(project):
    named = run("check", "--output-format", "concise", "app.py", "migrations/0001.py", cwd=project)
    assert "migrations/0001.py" in named.output  # a named file is linted, as ruff does...
    forced = run("check", "--force-exclude", "--output-format", "concise", "app.py", "migrations/0001.py",
                 cwd=project)
    assert forced.exit_code == 1 and "migrations" not in forced.output  # ...unless --force-exclude
    assert "app.py:5:5" in forced.output
    only = run("check", "--force-exclude", "migrations/0001.py", cwd=project)
    assert only.exit_code == 0, only.output
    folder = run("check", "--force-exclude", "migrations", cwd=project)
    assert folder.exit_code == 0 and "0 files" in folder.output


def test_force_exclude_stdin_filename(project):
    result = run("check", "--force-exclude", "--stdin-filename", "migrations/0001.py", cwd=project,
                 input=BLOCKING)
    assert result.exit_code == 0 and result.output == ""
    linted = run("check", "--force-exclude", "--stdin-filename", "app.py", cwd=project, input=BLOCKING)
    assert linted.exit_code == 1


# -------------------------------------------------------------------------------------- JSON: rule name and url

def test_json_names_the_rule_and_links_its_docs(project):
    result = run("check", "--output-format", "json", "app.py", cwd=project)
    [first, _] = json.loads(result.stdout)
    assert first["name"] == "blocking-sleep"
    assert first["url"].endswith("/docs/rules.md#al101-blocking-sleep")


def test_every_rule_url_points_at_a_heading_of_docs_rules_md():
    from async_lint.catalog import load_catalog
    from async_lint.reporters import rule_url

    import re

    headings = {"-".join(m.group(1).lower().split()) for m in
                re.finditer(r"^### (.+)$", (ROOT / "docs" / "rules.md").read_text(encoding="utf-8"), re.M)}
    for code in load_catalog().rules:
        anchor = rule_url(code, load_catalog()).rsplit("#", 1)[1]
        assert anchor in headings, code


def test_docs_group_rules_by_code_prefix():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    section = None
    for line in text.splitlines():
        if line.startswith("## AL"):
            section = line[3:6]
        elif line.startswith("### AL"):
            assert line[4:7] == section, f"{line} is under {section}xx"


# -------------------------------------------------------------------------------- extend-blocking-calls messages

def test_extend_blocking_calls_message_reads_well(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''\
        [tool.async-lint.extend-blocking-calls]
        "mycompany.sdk.fetch" = { code = "AL102", suggest = "use mycompany.sdk.afetch" }
        "mycompany.sdk.load" = { code = "AL102", suggest = "`await sdk.aload()`", why = "Blocks the event loop." }
        "mycompany.sdk.save" = { code = "AL102", suggest = "Use `sdk.asave`", why = "it writes to S3" }
        '''))
    (tmp_path / "app.py").write_text("from mycompany import sdk\n\n\nasync def h():\n    sdk.fetch()\n"
                                     "    sdk.load()\n    sdk.save()\n")
    result = run("check", "--no-cache", "--output-format", "json", "app.py", cwd=tmp_path)
    messages = [d["message"] for d in json.loads(result.stdout)]
    assert messages == [
        "`sdk.fetch()` blocks the event loop in `async def h`: `extend-blocking-calls` lists it as a blocking call",
        "`sdk.load()` blocks the event loop in `async def h`: `extend-blocking-calls` lists it as a blocking call",
        "`sdk.save()` blocks the event loop in `async def h`: it writes to S3",
    ]
    full = run("check", "--no-cache", "app.py", cwd=tmp_path).output
    assert "help: use mycompany.sdk.afetch" in full and "help: use `sdk.asave`" in full
    assert "use use" not in full.lower() and "event loop: blocks the event loop" not in full.lower()


def test_unsafe_fix_marker_is_shown(tmp_path):
    (tmp_path / "app.py").write_text(UNSAFE_ONLY)
    result = run("check", "--no-cache", "app.py", cwd=tmp_path)
    assert "AL102 [unsafe fix] `requests.get()`" in result.output


# --------------------------------------------------------------------------------------------- the GitHub Action

def test_action_yml_is_a_composite_action_running_the_script():
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["output-format"]["default"] == "github"
    assert action["inputs"]["args"]["default"] == "."
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert "scripts/github_action.sh" in steps[-1]["run"] and steps[-1]["shell"] == "bash"
    assert steps[-1]["env"]["INPUT_ARGS"] == "${{ inputs.args }}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's script is a bash script")
def test_action_script_runs_check_with_github_annotations(project):
    env = {**os.environ, "ASYNC_LINT_INSTALL": "0", "ASYNC_LINT_PYTHON": sys.executable,
           "INPUT_ARGS": "app.py  --no-cache", "INPUT_OUTPUT_FORMAT": "github"}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "github_action.sh")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("::error file=app.py,line=5,col=5,")
    env.update(INPUT_ARGS="app.py --output-format concise --no-cache")  # the args can override the format
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "github_action.sh")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("app.py:5:5: AL101")
    (project / "app.py").write_text("import asyncio\n")
    env.update(INPUT_ARGS="app.py", INPUT_OUTPUT_FORMAT="github")
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "github_action.sh")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == ""


# ------------------------------------------------------------------------------------- the same flags in ruff

RUFF = shutil.which("ruff") or (str(Path(sys.executable).with_name("ruff"))
                                if Path(sys.executable).with_name("ruff").exists() else None)
ruff_only = pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install ruff to compare)")


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([RUFF, "check", "--no-cache", "--isolated", "--select", "F401", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@ruff_only
def test_ruff_parity_add_noqa(tmp_path):
    (tmp_path / "r.py").write_text("import os  # noqa: E501\nimport sys\n")
    proc = ruff("--add-noqa", "r.py", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "" and "Added 2 noqa directives." in proc.stderr
    assert (tmp_path / "r.py").read_text() == "import os  # noqa: E501, F401\nimport sys  # noqa: F401\n"
    # async-lint: the same exit code, the same message, the same merged form.
    (tmp_path / "a.py").write_text("import time\n\nasync def h():\n    time.sleep(1)  # noqa: E501\n")
    result = run("check", "--add-noqa", "--no-cache", "a.py", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == "" and "Added 1 noqa directive." in result.stderr
    assert "time.sleep(1)  # noqa: AL101, E501" in (tmp_path / "a.py").read_text()


@ruff_only
def test_ruff_parity_fix_only_and_exit_non_zero_on_fix(tmp_path):
    (tmp_path / "r.py").write_text("import os\n")
    assert ruff("--fix-only", "r.py", cwd=tmp_path).stdout.strip() == "Fixed 1 error."
    (tmp_path / "r.py").write_text("import os\n")
    assert ruff("--fix-only", "--exit-non-zero-on-fix", "r.py", cwd=tmp_path).returncode == 1
    assert ruff("--fix-only", "--exit-non-zero-on-fix", "r.py", cwd=tmp_path).returncode == 0
    (tmp_path / "a.py").write_text(BLOCKING)
    assert run("check", "--fix-only", "--exit-non-zero-on-fix", "--no-cache", "a.py", cwd=tmp_path).exit_code == 1
    assert run("check", "--fix-only", "--exit-non-zero-on-fix", "--no-cache", "a.py", cwd=tmp_path).exit_code == 0


@ruff_only
def test_ruff_parity_statistics_json_keys(tmp_path):
    (tmp_path / "r.py").write_text("import os\n")
    [row] = json.loads(ruff("--statistics", "--output-format", "json", "r.py", cwd=tmp_path).stdout)
    (tmp_path / "a.py").write_text(BLOCKING)
    [mine] = json.loads(run("check", "--statistics", "--output-format", "json", "a.py", cwd=tmp_path).stdout)
    assert set(mine) == set(row)


@ruff_only
def test_ruff_parity_force_exclude(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nextend-exclude = ['migrations']\n"
                                             "[tool.async-lint]\nextend-exclude = ['migrations']\n")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "m.py").write_text("import os\n" + BLOCKING)
    ruff_cmd = [RUFF, "check", "--no-cache", "--select", "F401", "migrations/m.py"]
    run_ruff = subprocess.run(ruff_cmd, cwd=tmp_path, capture_output=True, text=True)
    forced = subprocess.run(ruff_cmd + ["--force-exclude"], cwd=tmp_path, capture_output=True, text=True)
    assert (run_ruff.returncode, forced.returncode) == (1, 0)
    assert run("check", "migrations/m.py", cwd=tmp_path).exit_code == 1
    assert run("check", "--force-exclude", "migrations/m.py", cwd=tmp_path).exit_code == 0
