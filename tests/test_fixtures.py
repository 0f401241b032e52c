"""Every rule fixture is linted and its findings compared exactly with its `# error:` comments."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, expectations, lint

RULE_FIXTURES = sorted(p for p in FIXTURES.glob("AL*.py"))


@pytest.mark.parametrize("path", RULE_FIXTURES, ids=lambda p: p.name)
def test_fixture_findings_match_expectations(path):
    result = lint(path)
    found = {(f.row, f.code) for f in result.findings}
    expected = expectations(path)
    assert expected, f"{path.name} has no `# error:` lines: a fixture must prove the rule fires"
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    assert not missing and not extra, f"missing: {missing}\nunexpected: {extra}"


def test_every_rule_with_a_check_has_a_fixture():
    from async_lint.checks import all_rules

    codes = {code for rule in all_rules() for code in rule.codes}
    have = {p.stem.split("_")[0] for p in RULE_FIXTURES}
    assert codes <= have, f"rules without a fixture: {sorted(codes - have)}"
