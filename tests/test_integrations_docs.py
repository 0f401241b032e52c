"""Rule documentation: docs/rules.md is generated from the catalog and must be current; `rules` and `rule CODE`."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.catalog import load_catalog
from async_lint.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_rule_docs.py"
DOCS = ROOT / "docs" / "rules.md"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_rule_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_rules_md_is_up_to_date():
    expected = load_generator().render()
    current = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    assert current == expected, (
        "docs/rules.md is out of date with the rule catalog (rules/*.toml): run `python scripts/gen_rule_docs.py` "
        "and commit docs/rules.md"
    )


def test_docs_cover_every_rule_of_the_catalog():
    text = load_generator().render()
    for code, rule in load_catalog().rules.items():
        assert f"### {code} {rule.name}" in text
        assert f"| [{code}](#{code.lower()}-{rule.name}) | {rule.name} |" in text
        if rule.bad:
            assert rule.bad in text


def test_generated_from_the_catalog_given(tmp_path):
    """A rule added to the catalog appears in the docs without touching the generator."""
    from dataclasses import replace

    catalog = load_catalog()
    new = replace(catalog.rules["AL101"], code="AL999", name="brand-new-rule", summary="Something new | piped",
                  family="AL9", default=False, fix_safety="none")
    extended = replace(catalog, rules={**catalog.rules, "AL999": new})
    text = load_generator().render(extended)
    assert "### AL999 brand-new-rule" in text and "## AL9xx" in text
    assert "| [AL999](#al999-brand-new-rule) | brand-new-rule | Something new \\| piped | off | - |" in text
    assert "no (enable it with `extend-select`)" in text


def test_check_mode_of_the_script(tmp_path):
    stale = tmp_path / "rules.md"
    stale.write_text("old\n")
    run = [sys.executable, str(SCRIPT), "--output", str(stale)]
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 1
    assert stale.read_text() == "old\n"
    assert subprocess.run(run, capture_output=True).returncode == 0
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 0
    assert stale.read_text() == DOCS.read_text(encoding="utf-8")


def test_rules_listing_has_default_and_fix_columns():
    result = CliRunner().invoke(cli, ["rules"], terminal_width=200)
    assert result.exit_code == 0
    header = next(line for line in result.output.splitlines() if "Code" in line)
    for column in ("Code", "Name", "Summary", "Default", "Fix"):
        assert column in header
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ AL")}
    assert set(lines) == set(load_catalog().rules)
    assert " on " in lines["AL101"] and " safe " in lines["AL101"]
    assert " always " in lines["AL001"] and " - " in lines["AL001"]
    data = json.loads(CliRunner().invoke(cli, ["rules", "--output-format", "json"]).output)
    assert {"code", "name", "summary", "default", "fix"} <= set(data[0])


@pytest.mark.parametrize("code", sorted(load_catalog().rules))
def test_rule_page(code):
    rule = load_catalog().rules[code]
    result = CliRunner().invoke(cli, ["rule", code], terminal_width=200)
    assert result.exit_code == 0
    out = result.output
    assert f"{code} {rule.name}" in out and rule.summary.replace("`", "")[:30] in out.replace("`", "")
    assert "Why is this bad?" in out and "Fix (" in out and "Enabled by default:" in out
    if rule.bad:
        assert "Example" in out and rule.bad.splitlines()[0] in out
    if rule.has_fix:
        assert {"safe": "Fix (safe fix)", "unsafe": "Fix (unsafe fix (needs --unsafe-fixes))"}[rule.fix_safety] in out
    # by name too
    assert CliRunner().invoke(cli, ["rule", rule.name]).exit_code == 0
