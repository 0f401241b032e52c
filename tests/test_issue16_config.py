"""Issue 16, configuration: standalone files, per-folder settings, `extend`, `--config KEY=VALUE`, `--isolated`,
`--show-settings`, validation and AL003 (unused-noqa). Where ruff has the same feature, the same layout is given
to ruff too (when it is installed) and both must pick the same file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
UNAWAITED = "async def work():\n    pass\n\n\nasync def handler():\n    work()\n"
BOTH = "import time\n\n\nasync def work():\n    pass\n\n\nasync def handler():\n    time.sleep(1)\n    work()\n"


def run(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(old)


def codes(result) -> list[tuple[str, str]]:
    """(path, code) of each finding in concise output."""
    return sorted(re.findall(r"^(\S+?):\d+:\d+: (AL\d{3})", result.output, re.M))


def settings_path(output: str) -> str | None:
    match = re.search(r'^Settings path: "?(.*?)"?$', output, re.M)
    return match.group(1) if match else None


def ruff() -> str:
    found = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(found).exists():
        pytest.skip("ruff is not installed (pip install ruff) to compare with")
    return found


def ruff_settings_path(cwd: Path, *args: str) -> str | None:
    out = subprocess.run([ruff(), "check", "--no-cache", "--show-settings", *args], cwd=cwd, capture_output=True,
                         text=True)
    return settings_path(out.stdout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------- standalone files
@pytest.mark.parametrize("names", [
    (".async-lint.toml", "async-lint.toml", "pyproject.toml"),
    ("async-lint.toml", "pyproject.toml"),
])
def test_standalone_file_wins_over_pyproject_in_the_same_folder(tmp_path, names):
    write(tmp_path / "app.py", BOTH)
    selections = {".async-lint.toml": 'select = ["AL101"]\n', "async-lint.toml": 'select = ["AL201"]\n',
                  "pyproject.toml": '[tool.async-lint]\nselect = ["AL1", "AL2"]\n'}
    for name in names:
        write(tmp_path / name, selections[name])
    result = run("check", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    winner = names[0]
    assert codes(result) == [("app.py", "AL101" if winner == ".async-lint.toml" else "AL201")]
    shown = run("check", "--show-settings", "app.py", cwd=tmp_path)
    assert shown.exit_code == 0 and settings_path(shown.output) == str(tmp_path.resolve() / winner)
    # ruff, with its own names in the same places, picks the file in the same position.
    ruff_names = {".async-lint.toml": ".ruff.toml", "async-lint.toml": "ruff.toml", "pyproject.toml": "pyproject.toml"}
    for name in names:
        body = "[tool.ruff]\nline-length = 90\n" if name == "pyproject.toml" else "line-length = 90\n"
        write(tmp_path / "r" / ruff_names[name], body)
    write(tmp_path / "r" / "app.py", "x = 1\n")
    assert ruff_settings_path(tmp_path / "r", "app.py") == str(tmp_path.resolve() / "r" / ruff_names[winner])


def test_pyproject_without_the_table_is_not_a_configuration(tmp_path):
    write(tmp_path / "async-lint.toml", 'select = ["AL201"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n")
    write(tmp_path / "pkg" / "app.py", BOTH)
    result = run("check", "--no-cache", "--output-format", "concise", "pkg", cwd=tmp_path)
    assert codes(result) == [("pkg/app.py", "AL201")]


# ------------------------------------------------------------------------------------- per-folder settings
@pytest.fixture
def nested(tmp_path: Path) -> Path:
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\nselect = ["AL101"]\n')
    write(tmp_path / "app" / "main.py", BOTH)
    write(tmp_path / "tools" / "async-lint.toml", 'select = ["AL201"]\nexclude = ["generated/"]\n')
    write(tmp_path / "tools" / "gen.py", BOTH)
    write(tmp_path / "tools" / "generated" / "out.py", BOTH)
    return tmp_path


EXPECTED = [("app/main.py", "AL101"), ("tools/gen.py", "AL201")]


@pytest.mark.parametrize("args", [(".",), ("tools/gen.py", "app"), ("app", "tools"), ("tools", "app/main.py")])
def test_each_file_uses_its_nearest_configuration_whatever_path_comes_first(nested, args):
    result = run("check", "--no-cache", "--output-format", "concise", *args, cwd=nested)
    assert result.exit_code == 1, result.output
    assert codes(result) == EXPECTED  # tools/generated/ is excluded by tools/async-lint.toml while walking


def test_the_same_from_inside_a_subfolder(nested):
    result = run("check", "--no-cache", "--output-format", "concise", "gen.py", "../app/main.py",
                 cwd=nested / "tools")
    assert codes(result) == [("../app/main.py", "AL101"), ("gen.py", "AL201")]


def test_ruff_also_uses_the_nearest_configuration(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.ruff]\nline-length = 90\n")
    write(tmp_path / "tools" / "ruff.toml", "line-length = 100\n")
    write(tmp_path / "tools" / "gen.py", "x = 1\n")
    write(tmp_path / "app" / "main.py", "x = 1\n")
    root = tmp_path.resolve()
    assert ruff_settings_path(tmp_path, "tools/gen.py") == str(root / "tools" / "ruff.toml")
    assert ruff_settings_path(tmp_path, "app/main.py", "tools/gen.py") == str(root / "pyproject.toml")


def test_files_without_a_configuration_get_the_runs_settings(tmp_path):
    """No configuration file anywhere: one run, one project root, as before per-folder settings (and as ruff
    falls back to the configuration of its working folder)."""
    write(tmp_path / "pyproject.toml", "[project]\nname = 'mono'\n")
    write(tmp_path / "libs" / "one" / "pyproject.toml", "[project]\nname = 'one'\n")
    write(tmp_path / "libs" / "one" / "mod.py", BLOCKING)
    write(tmp_path / "app.py", BLOCKING)
    result = run("check", "--no-cache", "--output-format", "concise", ".", "--extend-select", "AL201",
                 cwd=tmp_path)
    assert codes(result) == [("app.py", "AL101"), ("libs/one/mod.py", "AL101")]
    from async_lint.config import Overrides, build_settings

    settings = build_settings([tmp_path], None, Overrides())
    assert settings.tree.for_path(tmp_path / "libs" / "one" / "mod.py").root == str(tmp_path.resolve())


def test_cache_is_kept_per_configuration(nested):
    first = run("check", "--output-format", "concise", ".", cwd=nested)
    again = run("check", "--output-format", "concise", ".", cwd=nested)
    assert codes(first) == codes(again) == EXPECTED
    write(nested / "tools" / "async-lint.toml", 'select = ["AL101"]\n')  # the subproject changes its mind
    changed = run("check", "--output-format", "concise", "tools", "app", cwd=nested)
    assert codes(changed) == [("app/main.py", "AL101"), ("tools/gen.py", "AL101"),
                              ("tools/generated/out.py", "AL101")]


def test_a_broken_configuration_below_is_a_configuration_error(nested):
    write(nested / "tools" / "async-lint.toml", 'selec = ["AL201"]\n')
    result = run("check", "--no-cache", ".", cwd=nested)
    assert result.exit_code == 2
    assert "unknown key `selec`" in result.output and "async-lint.toml" in result.output
    assert "internal error" not in result.output


def test_api_check_uses_the_nearest_configuration_too(nested):
    from async_lint import check

    found = check([nested], helper_depth=2)
    assert sorted((Path(f.path).relative_to(nested).as_posix(), f.code) for f in found) == EXPECTED


# ------------------------------------------------------------------------------------------------- extend
def test_extend_inherits_and_local_keys_override(tmp_path):
    write(tmp_path / "shared.toml", 'select = ["AL1", "AL2"]\nignore = ["AL201"]\ndefault-timeout = 5\n')
    write(tmp_path / "svc" / "async-lint.toml", 'extend = "../shared.toml"\ndefault-timeout = 30\n')
    write(tmp_path / "svc" / "app.py", BOTH)
    result = run("check", "--no-cache", "--output-format", "concise", "svc", cwd=tmp_path)
    assert codes(result) == [("svc/app.py", "AL101")]  # the shared select and ignore
    shown = run("check", "--show-settings", "svc/app.py", cwd=tmp_path)
    assert "default-timeout = 30.0" in shown.output
    assert f"Extends: {tmp_path.resolve() / 'shared.toml'}" in shown.output


def test_a_local_select_starts_afresh_and_extend_select_adds(tmp_path):
    write(tmp_path / "shared.toml", 'select = ["AL101"]\n')
    write(tmp_path / "a" / "async-lint.toml", 'extend = "../shared.toml"\nextend-select = ["AL201"]\n')
    write(tmp_path / "b" / "async-lint.toml", 'extend = "../shared.toml"\nselect = ["AL201"]\n')
    write(tmp_path / "a" / "app.py", BOTH)
    write(tmp_path / "b" / "app.py", BOTH)
    result = run("check", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    assert codes(result) == [("a/app.py", "AL101"), ("a/app.py", "AL201"), ("b/app.py", "AL201")]


@pytest.mark.parametrize("shared, message", [
    (None, "not a file"),
    ('extend = "svc/async-lint.toml"\n', "makes a cycle"),
])
def test_extend_mistakes_exit_2(tmp_path, shared, message):
    write(tmp_path / "svc" / "async-lint.toml", 'extend = "../shared.toml"\n')
    write(tmp_path / "svc" / "app.py", BLOCKING)
    if shared is not None:
        write(tmp_path / "shared.toml", shared)
    result = run("check", "--no-cache", "svc", cwd=tmp_path)
    assert result.exit_code == 2 and message in result.output


def test_ruff_extend_is_relative_to_the_file_and_local_keys_win(tmp_path):
    write(tmp_path / "shared.toml", "line-length = 90\n")
    write(tmp_path / "svc" / "ruff.toml", 'extend = "../shared.toml"\nline-length = 120\n')
    write(tmp_path / "svc" / "app.py", "x = 1\n")
    out = subprocess.run([ruff(), "check", "--no-cache", "--show-settings", "svc/app.py"], cwd=tmp_path,
                         capture_output=True, text=True).stdout
    assert "line_length = 120" in out


# ----------------------------------------------------------------------------- --config, --isolated
def test_config_key_value_overrides_every_file(nested):
    result = run("check", "--no-cache", "--output-format", "concise", "--config", 'select = ["AL101", "AL201"]',
                 ".", cwd=nested)
    assert codes(result) == [("app/main.py", "AL101"), ("app/main.py", "AL201"), ("tools/gen.py", "AL101"),
                             ("tools/gen.py", "AL201")]
    # Flags come last: --ignore adjusts what --config selected.
    result = run("check", "--no-cache", "--output-format", "concise", "--config", 'select = ["AL101", "AL201"]',
                 "--config", "default-timeout = 12", "--ignore", "AL101", "app", cwd=nested)
    assert codes(result) == [("app/main.py", "AL201")]
    shown = run("check", "--config", "default-timeout = 12", "--show-settings", "app", cwd=nested)
    assert "default-timeout = 12.0" in shown.output


def test_config_file_applies_to_every_file(nested):
    write(nested / "ci.toml", 'select = ["AL201"]\n')
    result = run("check", "--no-cache", "--output-format", "concise", "--config", "ci.toml", "app", "tools/gen.py",
                 cwd=nested)
    assert codes(result) == [("app/main.py", "AL201"), ("tools/gen.py", "AL201")]


@pytest.mark.parametrize("args, message", [
    (("--config", "nosuch = 1"), "unknown key `nosuch`"),
    (("--config", "select = 'AL1'"), "`select` must be a list"),
    (("--config", "missing.toml"), "config file does not exist"),
    (("--config", "select = [oops"), "neither a configuration file nor a TOML"),
    (("--config", "pyproject.toml", "--isolated"), "cannot be used with `--isolated`"),
])
def test_config_mistakes_exit_2_as_in_ruff(nested, args, message):
    result = run("check", "--no-cache", *args, ".", cwd=nested)
    assert result.exit_code == 2 and message in result.output
    ruff_args = {"nosuch = 1": ["--config", "nosuch = 1"], "missing.toml": ["--config", "missing.toml"],
                 "pyproject.toml": ["--isolated", "--config", "pyproject.toml"]}.get(args[1])
    if ruff_args:
        write(nested / "r" / "pyproject.toml", "[tool.ruff]\n")
        write(nested / "r" / "x.py", "x = 1\n")
        assert subprocess.run([ruff(), "check", "--no-cache", *ruff_args, "x.py"], cwd=nested / "r",
                              capture_output=True).returncode == 2


def test_isolated_ignores_every_configuration_file(nested):
    result = run("check", "--no-cache", "--isolated", "--output-format", "concise", ".", cwd=nested)
    # The defaults (AL101 and AL201 are on), and tools/async-lint.toml's exclude no longer applies.
    assert codes(result) == [("app/main.py", "AL101"), ("app/main.py", "AL201"), ("tools/gen.py", "AL101"),
                             ("tools/gen.py", "AL201"), ("tools/generated/out.py", "AL101"),
                             ("tools/generated/out.py", "AL201")]
    shown = run("check", "--isolated", "--show-settings", "tools/gen.py", cwd=nested)
    assert settings_path(shown.output) == "none (defaults)"
    write(nested / "r" / "ruff.toml", "line-length = 100\n")
    write(nested / "r" / "x.py", "x = 1\n")
    assert ruff_settings_path(nested / "r", "--isolated", "x.py") is None


# -------------------------------------------------------------------------------------------- --show-settings
def test_show_settings_prints_the_first_paths_settings_and_exits_0(nested):
    result = run("check", "--show-settings", "tools/gen.py", "app/main.py", cwd=nested)
    assert result.exit_code == 0
    assert result.output.startswith(f"Resolved settings for: {nested.resolve() / 'tools' / 'gen.py'}\n")
    assert settings_path(result.output) == str(nested.resolve() / "tools" / "async-lint.toml")
    assert 'select = ["AL201"]' in result.output and 'exclude = ["generated/"]' in result.output
    # ruff also shows the first path's settings and exits 0.
    write(nested / "r" / "ruff.toml", "line-length = 100\n")
    write(nested / "r" / "x.py", "x = 1\n")
    done = subprocess.run([ruff(), "check", "--no-cache", "--show-settings", "x.py"], cwd=nested / "r",
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("Resolved settings for:")


# ------------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("body, key", [
    ("default-timeout = 0\n", "default-timeout"),
    ("default-timeout = -2.5\n", "default-timeout"),
    ("select = []\n", "select"),
])
def test_invalid_values_exit_2_naming_the_file_and_key(tmp_path, body, key):
    config = write(tmp_path / "async-lint.toml", body)
    write(tmp_path / "app.py", BLOCKING)
    result = run("check", "--no-cache", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert str(config.resolve()) in result.output and f"`{key}`" in result.output


def test_an_inherited_invalid_value_names_the_file_that_set_it(tmp_path):
    shared = write(tmp_path / "shared.toml", "default-timeout = 0\n")
    write(tmp_path / "svc" / "async-lint.toml", 'extend = "../shared.toml"\n')
    write(tmp_path / "svc" / "app.py", BLOCKING)
    result = run("check", "--no-cache", "svc", cwd=tmp_path)
    assert result.exit_code == 2 and str(shared.resolve()) in result.output.replace("\n", "")


# -------------------------------------------------------------------------------------------- AL003 unused-noqa
NOQA = ("import time\n\n\nasync def handler():\n    time.sleep(1)  # noqa: AL101\n    total = 1  # noqa: AL101\n"
        "    width = 2  # noqa: AL101, E501\n    return total + width\n")


def test_al003_is_opt_in_and_its_fix_removes_unused_codes(tmp_path):
    target = write(tmp_path / "app.py", NOQA)
    assert run("check", "--no-cache", "--isolated", "app.py", cwd=tmp_path).exit_code == 0  # not by default
    assert run("check", "--no-cache", "--isolated", "--preview", "app.py", cwd=tmp_path).exit_code == 0
    result = run("check", "--no-cache", "--isolated", "--preview", "--extend-select", "AL003", "--output-format",
                 "concise", "app.py", cwd=tmp_path)
    assert codes(result) == [("app.py", "AL003"), ("app.py", "AL003")]
    assert "unused `noqa` directive (unused: `AL101`)" in result.output
    fixed = run("check", "--no-cache", "--isolated", "--preview", "--extend-select", "AL003", "--fix", "app.py",
                cwd=tmp_path)
    assert fixed.exit_code == 0, fixed.output
    assert target.read_text() == NOQA.replace("total = 1  # noqa: AL101", "total = 1").replace(
        "# noqa: AL101, E501", "# noqa: E501")


def test_ruff_unused_noqa_fix_has_the_same_shape(tmp_path):
    """RUF100 on the same shapes (F401 used; F401 unused alone; unused next to a code of another tool)."""
    source = "import os  # noqa: F401\nx = 1  # noqa: F401\ny = 2  # noqa: F401, XYZ123\nprint(x, y)\n"
    target = write(tmp_path / "r" / "mod.py", source)
    write(tmp_path / "r" / "ruff.toml", 'lint.select = ["F401", "RUF100"]\nlint.external = ["XYZ"]\n')
    subprocess.run([ruff(), "check", "--no-cache", "--fix", "mod.py"], cwd=tmp_path / "r", capture_output=True)
    assert target.read_text() == "import os  # noqa: F401\nx = 1\ny = 2  # noqa: XYZ123\nprint(x, y)\n"


def test_without_a_project_marker_a_file_and_its_folder_share_the_current_folder_as_root(tmp_path, monkeypatch):
    """No pyproject.toml, configuration file or .git: the project root is the current folder (as ruff's), so
    `check app/retrieval/utils.py` names the module as `check .` does and answers from the same cache."""
    from async_lint.config import Overrides, build_settings
    from async_lint.index import module_name_for

    (tmp_path / "app" / "retrieval").mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("")
    target = tmp_path / "app" / "retrieval" / "utils.py"  # a folder without __init__.py
    target.write_text("import time\n\n\nasync def load():\n    time.sleep(1)\n")
    monkeypatch.chdir(tmp_path)
    whole = build_settings([Path(".")], None, Overrides())
    alone = build_settings([Path("app/retrieval/utils.py")], None, Overrides())
    assert whole.root == alone.root == str(tmp_path.resolve())
    assert (module_name_for(target, whole.source_roots) == module_name_for(target, alone.source_roots))
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "."])
    assert ".async_lint_cache" in os.listdir(tmp_path) and "AL101" in result.output
    again = CliRunner().invoke(cli, ["check", "--output-format", "concise", "app/retrieval/utils.py"])
    assert "AL101" in again.output
    assert not (tmp_path / "app" / "retrieval" / ".async_lint_cache").exists()  # one cache, at the root
