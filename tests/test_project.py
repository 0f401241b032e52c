"""Cross-module resolution: the multi-file fixture package under tests/fixtures/project."""

from __future__ import annotations

from pathlib import Path

from helpers import FIXTURES, expectations, settings_for

from async_lint.index import module_name_for
from async_lint.runner import lint_paths

PROJECT = FIXTURES / "project"


def _findings(paths, *codes):
    settings = settings_for(*codes, root=PROJECT)
    return lint_paths([str(p) for p in paths], settings, jobs=1)


def test_cross_module_findings_match_expectations():
    files = sorted(PROJECT.rglob("*.py"))
    results = _findings(files, "AL107", "AL201", "AL206")
    found = {(Path(f.path).relative_to(PROJECT).as_posix(), f.row, f.code) for r in results for f in r.findings}
    expected = {(p.relative_to(PROJECT).as_posix(), row, code) for p in files for row, code in expectations(p)
                if code in ("AL107", "AL201", "AL206")}  # other project fixtures hold other rules' expectations
    assert expected, "the project fixture must have expectations"
    assert found == expected


def test_linting_one_file_still_indexes_its_package():
    """pre-commit passes only changed files; the index must still see the rest of the package."""
    main = PROJECT / "app" / "main.py"
    [result] = _findings([main], "AL107", "AL201", "AL206")
    assert {(f.row, f.code) for f in result.findings} == expectations(main)


def test_chain_message_names_every_step_and_the_blocking_line():
    [result] = _findings([PROJECT / "app" / "main.py"], "AL107")
    messages = [f.message for f in result.findings if "slow_report()" in f.message and f.row == 28]
    assert len(messages) == 1
    assert "slow_report → pause_for_rate_limit → time.sleep (" in messages[0]
    assert "helpers.py:7)" in messages[0]


def test_module_names():
    assert module_name_for(PROJECT / "app" / "services" / "payments.py") == ("app.services.payments", False)
    assert module_name_for(PROJECT / "app" / "__init__.py") == ("app", True)
    assert module_name_for(FIXTURES / "AL101.py") == ("AL101", False)


def test_namespace_packages_and_src_layouts_are_named_as_imported():
    roots = settings_for("AL201", root=PROJECT).source_roots
    assert module_name_for(PROJECT / "nsapp" / "auth" / "policy.py", roots) == ("nsapp.auth.policy", False)
    assert module_name_for(PROJECT / "src" / "ledger" / "store.py", roots) == ("ledger.store", False)
    assert module_name_for(PROJECT / "app" / "services" / "payments.py", roots) == ("app.services.payments", False)
    # a folder of scripts or tests with no __init__.py right in the project root: modules named by their stem
    assert module_name_for(FIXTURES / "AL101.py", settings_for("AL201").source_roots) == ("AL101", False)


def test_source_roots_setting_decides_the_names():
    """Calls across a namespace package or a src layout are found only with the source roots (`src`)."""
    files = [PROJECT / "nsapp" / "routes.py", PROJECT / "src" / "ledger" / "api.py"]
    with_roots = lint_paths([str(p) for p in files], settings_for("AL201", root=PROJECT), jobs=1)
    assert {(Path(r.path).name, f.row) for r in with_roots for f in r.findings} == {
        ("routes.py", 6), ("routes.py", 8), ("api.py", 5)}
    without = lint_paths([str(p) for p in files], settings_for("AL201", root=PROJECT, src=()), jobs=1)
    assert [f for r in without for f in r.findings] == []


def test_src_setting_in_pyproject(tmp_path):
    """`src = ["lib"]`: a namespace package in lib/ is named from lib/; an unknown type is an error."""
    import pytest

    from async_lint.config import ConfigError, Overrides, build_settings

    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nsrc = ["lib"]\n', encoding="utf-8")
    (tmp_path / "lib" / "billing").mkdir(parents=True)
    module = tmp_path / "lib" / "billing" / "invoices.py"
    module.write_text("async def send() -> None: ...\n", encoding="utf-8")
    settings = build_settings([tmp_path], None, Overrides())
    assert settings.src == ("lib",)
    assert module_name_for(module, settings.source_roots) == ("billing.invoices", False)
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nsrc = "lib"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="src"):
        build_settings([tmp_path], None, Overrides())
