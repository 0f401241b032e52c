"""Every fix has an expected output: tests/fixtures/fixes/<CODE>.py -> <CODE>.fixed.py, compared exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.catalog import load_catalog
from async_lint.cli import cli

FIXES = Path(__file__).parent / "fixtures" / "fixes"
CASES = sorted(p for p in FIXES.glob("AL*.py") if not p.name.endswith(".fixed.py"))


def fix(path: Path, code: str, *extra: str):
    rules = load_catalog().rules
    preview = ["--preview"] if any(rules[c].preview for c in code.split(",") if c in rules) else []  # preview-only rules
    return CliRunner().invoke(cli, ["check", "--fix", "--unsafe-fixes", *preview, "--select", code, *extra,
                                    str(path)])


def _codes_of(case: Path) -> str:
    """The rule a case is named after, or the codes of its `# select: AL003, AL101` header."""
    from helpers import selection_of

    return ",".join(selection_of(case))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_fix_matches_expected_output(case, tmp_path):
    code = _codes_of(case)
    target = tmp_path / case.name
    shutil.copy(case, target)
    fix(target, code)
    expected = case.with_name(case.stem + ".fixed.py")
    assert target.read_text() == expected.read_text()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_fixing_the_fixed_output_changes_nothing(case, tmp_path):
    code = _codes_of(case)
    expected = case.with_name(case.stem + ".fixed.py")
    target = tmp_path / case.name
    shutil.copy(expected, target)
    before = target.read_bytes()
    fix(target, code)
    assert target.read_bytes() == before


def test_every_fixable_rule_has_a_fix_fixture():
    from async_lint.catalog import load_catalog

    from helpers import FIXTURES

    tested = {p.stem.split("_")[0] for p in CASES}
    from async_lint.checks import all_rules

    implemented = {code for rule in all_rules() for code in rule.codes}
    documented = {c for c, r in load_catalog().rules.items() if r.has_fix and c in implemented}
    assert documented <= tested | {"AL103", "AL104", "AL105", "AL106", "AL110"} , sorted(documented - tested)
    assert FIXTURES.exists()


def test_diff_writes_nothing_and_exits_1(tmp_path):
    for case in CASES:
        shutil.copy(case, tmp_path / case.name)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = CliRunner().invoke(cli, ["check", "--diff", "--unsafe-fixes", "--select", "ALL", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "+++ " in result.output and "await asyncio.sleep(delay)" in result.output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_diff_without_changes_exits_0(tmp_path):
    (tmp_path / "ok.py").write_text("import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n")
    result = CliRunner().invoke(cli, ["check", "--diff", str(tmp_path)])
    assert result.exit_code == 0


def test_safe_fixes_only_without_unsafe_flag(tmp_path):
    target = tmp_path / "app.py"
    target.write_text("import time\nimport requests\n\nasync def f():\n    time.sleep(1)\n"
                      "    requests.get('u', timeout=1)\n")
    result = CliRunner().invoke(cli, ["check", "--fix", str(target)])
    text = target.read_text()
    assert "await asyncio.sleep(1)" in text and "requests.get('u', timeout=1)" in text
    assert result.exit_code == 1  # the unsafe one remains
    assert "1 fixed, 1 remaining" in result.output and "1 more with --unsafe-fixes" in result.output


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_fix_keeps_line_endings_bom_and_encoding(tmp_path, newline):
    target = tmp_path / "app.py"
    body = newline.join(["# -*- coding: latin-1 -*-", "import time", "", "async def f():",
                         "    s = 'caf\xe9'", "    time.sleep(1)", ""])
    target.write_bytes(body.encode("latin-1"))
    fix(target, "AL101")
    data = target.read_bytes()
    assert b"caf\xe9" in data
    text = data.decode("latin-1")
    assert "await asyncio.sleep(1)" in text
    assert text.count(newline) == body.count(newline) + 1  # one line added: import asyncio
    if newline != "\n":
        assert "\n" not in text.replace("\r\n", "") if newline == "\r\n" else "\n" not in text


def test_fix_keeps_bom(tmp_path):
    target = tmp_path / "app.py"
    target.write_bytes(b"\xef\xbb\xbfimport time\n\nasync def f():\n    time.sleep(1)\n")
    fix(target, "AL101")
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfimport time\nimport asyncio\n")


def test_fix_keeps_permissions(tmp_path):
    target = tmp_path / "app.py"
    target.write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    target.chmod(0o640)
    fix(target, "AL101")
    assert (target.stat().st_mode & 0o777) == 0o640
    assert "await asyncio.sleep(1)" in target.read_text()


def test_read_only_file_is_reported_not_written(tmp_path):
    target = tmp_path / "app.py"
    original = "import time\n\nasync def f():\n    time.sleep(1)\n"
    target.write_text(original)
    target.chmod(0o444)
    result = fix(target, "AL101")
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write read-only files")
    assert "read-only" in result.output
    assert target.read_text() == original


# --------------------------------------------------------------------------------- AL301/AL303 and default-timeout
TIMEOUTS = ("import aiohttp\nimport httpx\nimport requests\n\n"
            "client = httpx.AsyncClient()\nsession = aiohttp.ClientSession()\ndef f(): return requests.get('u')\n")


def _fix_titles(path: Path, codes: str, *extra: str) -> dict[str, tuple[str, str]]:
    import json

    result = CliRunner().invoke(cli, ["check", "--output-format", "json", "--select", codes, *extra, str(path)])
    return {f["code"] + ":" + str(f["location"]["row"]): (f["fix"]["applicability"], f["fix"]["message"])
            for f in json.loads(result.output)}


def test_timeout_fixes_without_default_timeout(tmp_path):
    target = tmp_path / "app.py"
    target.write_text(TIMEOUTS)
    titles = _fix_titles(target, "AL301,AL303")
    assert titles["AL301:5"][0] == "safe" and "implicit default" in titles["AL301:5"][1]
    assert titles["AL301:6"][0] == "safe"
    assert titles["AL303:7"] == ("unsafe", "Add `timeout=10` (no default-timeout is configured: 10 s is "
                                           "async-lint's fallback)")


def test_configured_default_timeout_is_an_unsafe_fix(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\ndefault-timeout = 30\n")
    target = tmp_path / "app.py"
    target.write_text(TIMEOUTS)
    titles = _fix_titles(target, "AL301,AL303")
    assert {applicability for applicability, _ in titles.values()} == {"unsafe"}
    assert "configured default-timeout" in titles["AL303:7"][1]
    fix(target, "AL301,AL303")
    assert target.read_text() == TIMEOUTS.replace("AsyncClient()", "AsyncClient(timeout=30)").replace(
        "ClientSession()", "ClientSession(timeout=aiohttp.ClientTimeout(total=30))").replace(
        "get('u')", "get('u', timeout=30)")


def test_default_timeout_equal_to_the_library_default_stays_safe(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\ndefault-timeout = 5\n")
    target = tmp_path / "app.py"
    target.write_text(TIMEOUTS)
    CliRunner().invoke(cli, ["check", "--fix", "--select", "AL301", str(target)])
    # httpx's implicit default is 5 s: applied without --unsafe-fixes; aiohttp's is not (300 s), so it waits.
    assert target.read_text() == TIMEOUTS.replace("AsyncClient()", "AsyncClient(timeout=5)")
