"""Every rule fixture is linted and its findings compared exactly with its `# error:` comments."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, expectations, has_preview_expectations, lint

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


@pytest.mark.parametrize("path", [p for p in RULE_FIXTURES if has_preview_expectations(p)], ids=lambda p: p.name)
def test_fixture_findings_in_preview(path):
    """`# preview-error:` lines are a rule's preview behaviour: flagged with preview on, as well as the rest."""
    result = lint(path, preview=True)
    found = {(f.row, f.code) for f in result.findings}
    expected = expectations(path, preview=True)
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    assert not missing and not extra, f"missing: {missing}\nunexpected: {extra}"


def test_every_rule_with_a_check_has_a_fixture():
    from async_lint.checks import all_rules

    codes = {code for rule in all_rules() for code in rule.codes}
    have = {p.stem.split("_")[0] for p in RULE_FIXTURES}
    assert codes <= have, f"rules without a fixture: {sorted(codes - have)}"


def test_rules_that_need_the_project_index_say_so_in_the_catalog():
    """The runner decides from the catalog alone (no engine import on a warm run) whether to build the index."""
    from async_lint.catalog import load_catalog
    from async_lint.checks import Rule, all_rules
    from async_lint.checks.coroutines import CoroutineRules
    from async_lint.checks.blocking import BlockingCall
    from async_lint.checks.celery import CeleryResultWait
    from async_lint.checks.helpers import BlockingHelper
    from async_lint.checks.twins import SyncTwin

    catalog = load_catalog()
    deferring = {CoroutineRules: {"AL201", "AL206"}, BlockingHelper: {"AL107"},
                 SyncTwin: {"AL108"},  # codes whose findings are deferred
                 BlockingCall: set(BlockingCall.codes), CeleryResultWait: {"AL102"}}  # dropped when only CLI code awaits (checks/callers.py)
    for rule in all_rules():
        flagged = {code for code in rule.codes if catalog.rules[code].project}
        if rule.summarize is not Rule.summarize:
            needed = set(rule.codes)  # publishes facts for other files whichever of its codes runs
        else:
            needed = deferring.get(rule, set())
        assert flagged == needed, f"{rule.__name__}: project codes {sorted(flagged)}, expected {sorted(needed)}"
