"""Which rules run where: test files (`test-files`, `test-select`), preview rules (`preview`), and `# noqa` comments
written for ruff or flake8-async (catalog.PEER_CODES)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.catalog import PEER_CODES, build_catalog, _builtin_files, load_catalog
from async_lint.cli import cli
from async_lint.config import ConfigError, Overrides, build_settings, is_test_path, matches_test_pattern
from async_lint.runner import lint_paths
from helpers import FIXTURES

SCOPE = FIXTURES / "scope"
_MARK = re.compile(r"#\s*(?P<kind>error|opt-in):\s*(?P<codes>AL\d{3}(?:\s*,\s*AL\d{3})*)")


def marked(root: Path) -> dict[str, set[tuple[str, int, str]]]:
    """(file, row, code) of the `# error:` lines and of the `# opt-in:` lines under `root`."""
    out: dict[str, set[tuple[str, int, str]]] = {"error": set(), "opt-in": set()}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _MARK.search(line)
            if match:
                out[match["kind"]] |= {(rel, row, code.strip()) for code in match["codes"].split(",")}
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(SCOPE, root)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\n', encoding="utf-8")
    return root


def configure(root: Path, table: str) -> None:
    (root / "pyproject.toml").write_text(f'[project]\nname = "proj"\n\n[tool.async-lint]\n{table}\n', encoding="utf-8")


def run(root: Path, **overrides) -> set[tuple[str, int, str]]:
    settings = build_settings([root], None, Overrides(select=["ALL"], **overrides))
    files = sorted(str(p) for p in root.rglob("*.py"))
    return {(Path(f.path).relative_to(root).as_posix(), f.row, f.code)
            for result in lint_paths(files, settings, jobs=1) for f in result.findings}


# -- test files -------------------------------------------------------------------------------------------------------
def test_in_test_files_only_coroutine_and_test_rules_run_by_default(project):
    expected = marked(project)
    # integration/ is not test code by default: its finding is expected here.
    assert run(project) == expected["error"]


def test_every_rule_runs_in_test_files_when_asked(project):
    expected = marked(project)
    assert run(project, test_select=["ALL"]) == expected["error"] | expected["opt-in"]


def test_extend_test_select_adds_codes(project):
    expected = marked(project)
    found = run(project, extend_test_select=["AL101"])
    assert found == expected["error"] | {m for m in expected["opt-in"] if m[2] == "AL101"}


def test_configuration_keys(project):
    expected = marked(project)
    configure(project, 'extend-test-select = ["AL1", "AL3", "AL5"]')
    assert run(project) == expected["error"] | expected["opt-in"]
    configure(project, 'test-select = ["AL7"]')
    kept = {m for m in expected["error"] if m[0].startswith(("app/", "integration/")) or m[2].startswith("AL7")}
    assert run(project) == kept


def test_custom_test_files(project):
    expected = marked(project)
    integration = ("integration/check_api.py", 5, "AL101")
    configure(project, 'extend-test-files = ["integration/"]')
    assert run(project) == expected["error"] - {integration}
    # `test-files` replaces the defaults: tests/helpers.py is then application code.
    configure(project, 'test-files = ["test_*.py", "conftest.py"]')
    assert run(project) == expected["error"] | {("tests/helpers.py", 5, "AL101")}


def test_cli_options(project):
    default = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "AL1", "--output-format", "json",
                                       str(project / "tests")])
    assert default.exit_code == 0, default.output
    opted = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "AL1", "--extend-test-select", "AL1",
                                     "--output-format", "json", str(project / "tests")])
    assert opted.exit_code == 1
    assert {(Path(f["filename"]).name, f["code"]) for f in json.loads(opted.output)} == {
        ("test_handlers.py", "AL101"), ("test_handlers.py", "AL102"), ("helpers.py", "AL101")}


@pytest.mark.parametrize("rel, test", [
    ("tests/test_app.py", True), ("test_app.py", True), ("pkg/app_test.py", True), ("conftest.py", True),
    ("src/pkg/conftest.py", True), ("tests/helpers.py", True), ("pkg/tests/factories.py", True),
    ("test/utils.py", True), ("app/main.py", False), ("app/testing.py", False), ("contest.py", False),
    ("app/latest_tests.py", False), ("tests.py", False), ("app/test.py", False),
    ("pkg/testing/user_simulation.py", True), ("pkg/testing_utils.py", False),
])
def test_default_test_files(rel, test):
    assert is_test_path(f"/project/{rel}", "/project") is test


def test_pattern_forms():
    assert matches_test_pattern("integration/api/check.py", "integration/")
    assert matches_test_pattern("src/integration/check.py", "integration/")  # a folder at any depth
    assert not matches_test_pattern("src/integration/check.py", "src/int/")
    assert matches_test_pattern("src/e2e/check.py", "src/e2e/")  # anchored at the root
    assert not matches_test_pattern("lib/src/e2e/check.py", "src/e2e/")
    assert matches_test_pattern("qa/smoke/check.py", "qa/*.py")  # a path from the root; `*` crosses `/`
    assert matches_test_pattern("pkg/check_x.py", "check_*.py")  # a file name


def test_test_files_must_be_globs(project):
    configure(project, 'test-files = "tests/"')
    with pytest.raises(ConfigError, match="test-files"):
        build_settings([project], None, Overrides())


def test_test_scope_is_in_the_cache_key(project):
    default = build_settings([project], None, Overrides())
    opted = build_settings([project], None, Overrides(extend_test_select=["AL1"]))
    configure(project, 'extend-test-files = ["integration/"]')
    other_files = build_settings([project], None, Overrides())
    assert len({default.cache_key(), opted.cache_key(), other_files.cache_key()}) == 3


def test_cached_results_follow_the_test_scope(project):
    args = ["check", "--select", "AL1", "--output-format", "json", str(project / "tests" / "helpers.py")]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert CliRunner().invoke(cli, [*args, "--test-select", "ALL"]).exit_code == 1
    assert CliRunner().invoke(cli, args).exit_code == 0


# -- AL203 is opt-in --------------------------------------------------------------------------------------------------
def test_al203_is_off_by_default_and_fixes_when_selected(tmp_path):
    catalog = load_catalog()
    assert not catalog.rules["AL203"].default
    settings = build_settings([tmp_path], None, Overrides())
    assert "AL203" not in settings.enabled
    path = tmp_path / "app.py"
    path.write_text("import asyncio\n\n\nasync def f():\n    return asyncio.get_event_loop()\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["check", "--no-cache", str(path)]).exit_code == 0
    fixed = CliRunner().invoke(cli, ["check", "--no-cache", "--extend-select", "AL203", "--fix", str(path)])
    assert fixed.exit_code == 0, fixed.output
    assert "asyncio.get_running_loop()" in path.read_text(encoding="utf-8")


# -- peer codes -------------------------------------------------------------------------------------------------------
def test_peer_codes_are_in_the_catalog_and_docs():
    catalog = load_catalog()
    docs = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    for code, peers in PEER_CODES.items():
        assert catalog.rules[code].peer_codes == peers
        for peer in peers:
            assert f"`{peer}`" in docs


def test_peer_codes_and_flake8_noqa_handling(tmp_path):
    from async_lint.engine import Linter

    settings = build_settings([tmp_path], None, Overrides(select=["AL101"]))
    data = b"import time\n\nasync def f():\n    time.sleep(1)  # noqa: ASYNC251\n"
    linter = Linter(settings)
    assert linter.lint_bytes("app.py", data).findings == []
    linter.respect_noqa = False  # flake8: it does its own noqa, not the peer codes
    assert linter.lint_bytes("app.py", data).findings == []
    linter.respect_peer_noqa = False  # flake8 --disable-noqa
    assert [f.code for f in linter.lint_bytes("app.py", data).findings] == ["AL101"]


def test_bare_noqa_silences_everything(tmp_path):
    path = tmp_path / "app.py"
    path.write_text("import time\n\nasync def f():\n    time.sleep(1)  # noqa\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--no-cache", str(path)])
    assert result.exit_code == 0 and "1 suppressed by noqa" in result.output


# -- preview ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def preview_catalog(monkeypatch):
    """The built-in catalog with AL101 marked `preview = true` (no rule is preview yet)."""
    import async_lint.catalog as catalog_module
    import async_lint.cli as cli_module
    import async_lint.cli_commands as commands_module
    import async_lint.config as config_module

    files = []
    for name, data in _builtin_files():
        rules = [{**rule, "preview": True} if rule["code"] == "AL101" else rule for rule in data.get("rules", [])]
        files.append((name, {**data, "rules": rules}))
    catalog = build_catalog(files)
    monkeypatch.setattr(config_module, "load_catalog", lambda extra=None, **_: catalog)
    monkeypatch.setattr(catalog_module, "load_catalog", lambda extra=None, **_: catalog)
    monkeypatch.setattr(cli_module, "load_catalog", lambda extra=None, **_: catalog)
    monkeypatch.setattr(commands_module, "load_catalog", lambda extra=None, **_: catalog)  # `rules`, `rule`
    return catalog


def test_preview_rules_run_only_in_preview(tmp_path, preview_catalog):
    assert "AL101" not in build_settings([tmp_path], None, Overrides()).enabled
    assert "AL101" not in build_settings([tmp_path], None, Overrides(select=["AL1"])).enabled
    assert "AL102" in build_settings([tmp_path], None, Overrides(select=["AL1"])).enabled
    assert "AL101" in build_settings([tmp_path], None, Overrides(preview=True)).enabled
    assert "AL101" in build_settings([tmp_path], None, Overrides(select=["AL1"], preview=True)).enabled
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\npreview = true\n", encoding="utf-8")
    assert "AL101" in build_settings([tmp_path], None, Overrides()).enabled
    assert "AL101" not in build_settings([tmp_path], None, Overrides(preview=False)).enabled


def test_selecting_a_preview_rule_by_code_without_preview_warns(tmp_path, preview_catalog):
    by_code = build_settings([tmp_path], None, Overrides(select=["AL101", "AL102"]))
    assert by_code.enabled == {"AL102"}
    assert len(by_code.notes) == 1
    assert "`AL101` has no effect because preview is not enabled" in by_code.notes[0]
    assert build_settings([tmp_path], None, Overrides(select=["AL1"])).notes == ()  # a prefix: silently
    assert build_settings([tmp_path], None, Overrides(select=["AL101"], preview=True)).notes == ()
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nextend-select = ["AL101"]\n', encoding="utf-8")
    assert build_settings([tmp_path], None, Overrides()).notes


def test_preview_on_the_command_line(tmp_path, preview_catalog):
    path = tmp_path / "app.py"
    path.write_text("import time\n\nasync def f():\n    time.sleep(1)\n", encoding="utf-8")
    plain = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "AL101", str(path)])
    assert plain.exit_code == 0
    assert "warning: selection `AL101` has no effect because preview is not enabled" in plain.stderr
    assert CliRunner().invoke(cli, ["check", "--no-cache", "--preview", str(path)]).exit_code == 1
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\npreview = true\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["check", "--no-cache", str(path)]).exit_code == 1
    assert CliRunner().invoke(cli, ["check", "--no-cache", "--no-preview", str(path)]).exit_code == 0


def test_rules_listing_marks_preview_and_opt_in(preview_catalog):
    listing = CliRunner().invoke(cli, ["rules"], terminal_width=200).output
    lines = {line.split()[1]: line for line in listing.splitlines() if line.startswith("│ AL")}
    assert " preview (on) " in lines["AL101"]
    assert " off " in lines["AL203"] and " on " in lines["AL102"]
    data = {r["code"]: r for r in json.loads(CliRunner().invoke(cli, ["rules", "--output-format", "json"]).output)}
    assert data["AL101"]["preview"] is True and data["AL102"]["preview"] is False
    assert data["AL203"]["default"] is False
    page = CliRunner().invoke(cli, ["rule", "AL101"], terminal_width=200).output
    assert "preview rule" in page


def test_preview_badge_in_the_generated_docs(preview_catalog):
    import importlib.util

    script = FIXTURES.parent.parent / "scripts" / "gen_rule_docs.py"
    spec = importlib.util.spec_from_file_location("gen_rule_docs", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.render(preview_catalog)
    section = text.split("### AL101 ", 1)[1].split("### ", 1)[0]
    assert "**`Preview`**" in section
    assert "| preview (on) |" in text.split("\n## ", 1)[0]
    assert "**`Preview`**" not in text.split("### AL102 ", 1)[1].split("### ", 1)[0]


def test_preview_is_in_the_cache_key(tmp_path):
    preview = build_settings([tmp_path], None, Overrides(preview=True))
    assert preview.cache_key() != build_settings([tmp_path], None, Overrides()).cache_key()


def test_preview_must_be_a_boolean(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\npreview = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="`preview` must be true or false"):
        build_settings([tmp_path], None, Overrides())


# -- the flake8 plugin -------------------------------------------------------------------------------------------------
def test_flake8_plugin_options(tmp_path):
    import subprocess
    import sys

    (tmp_path / "app.py").write_text("import time\n\nasync def f():\n    time.sleep(1)  # noqa: ASYNC251\n"
                                     "    time.sleep(2)\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")  # the project root
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text("import time\n\nasync def wait():\n    time.sleep(1)\n",
                                                   encoding="utf-8")

    def flake8(*args: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "AL", "--format=%(path)s:%(row)d:%(code)s",
                               *args, "."], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode in (0, 1), proc.stderr
        return sorted(proc.stdout.split())

    assert flake8() == ["./app.py:5:AL101"]
    assert flake8("--disable-noqa") == ["./app.py:4:AL101", "./app.py:5:AL101"]
    assert flake8("--async-lint-extend-test-select", "AL1", "--async-lint-preview") == [
        "./app.py:5:AL101", "./tests/helpers.py:4:AL101"]
