"""AL701 reads pytest-asyncio's mode from the pytest configuration that governs the test file, like pytest does."""

from __future__ import annotations

import textwrap

import pytest

from async_lint.engine import Linter
from helpers import settings_for

TEST = textwrap.dedent(
    """
    async def test_unmarked():
        assert True
    """
)


def lint_in(tmp_path, files: dict[str, str], test_path: str = "test_app.py"):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    target = tmp_path / test_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(TEST, encoding="utf-8")
    result = Linter(settings_for("AL701", root=tmp_path)).lint_path(str(target))
    return [f.code for f in result.findings]


AUTO = [
    {"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'},
    {"pyproject.toml": '[tool.pytest]\nasyncio_mode = "auto"\n'},
    {"pytest.ini": "[pytest]\nasyncio_mode = auto\n"},
    {".pytest.ini": "[pytest]\nasyncio_mode = auto\n"},
    {"pytest.toml": '[pytest]\nasyncio_mode = "auto"\n'},
    {"setup.cfg": "[metadata]\nname = x\n[tool:pytest]\nasyncio_mode = auto\n"},
    {"tox.ini": "[tox]\nenvlist = py\n[pytest]\nasyncio_mode = auto\n"},
    {"pytest.ini": "[pytest]\naddopts = -ra --asyncio-mode=auto\n"},
    {"pyproject.toml": '[tool.pytest.ini_options]\naddopts = ["--asyncio-mode", "auto"]\n'},
    {"pyproject.toml": '[tool.pytest.ini_options]\ntrio_mode = true\n'},
    {"pytest.ini": "[pytest]\naddopts = -o asyncio_mode=auto\n"},
    {"tox.ini": "[pytest]\naddopts = --override-ini=asyncio_mode=auto -q\n"},
]


@pytest.mark.parametrize("files", AUTO, ids=lambda f: f"{next(iter(f))}:{next(iter(f.values())).splitlines()[-1]}")
def test_auto_mode_makes_async_tests_run(tmp_path, files):
    assert lint_in(tmp_path, files) == []


NOT_AUTO = [
    {},
    {"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "strict"\n'},
    {"pyproject.toml": '[project]\nname = "x"\n'},
    # pytest.ini is pytest's configuration even without asyncio_mode: the pyproject beside it is not read.
    {"pytest.ini": "[pytest]\ntestpaths = tests\n", "pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'},
    # setup.cfg without a [tool:pytest] section is not a pytest configuration; tox.ini's [tox] neither.
    {"setup.cfg": "[metadata]\nname = x\n", "tox.ini": "[tox]\nasyncio_mode = auto\n"},
    {"pyproject.toml": "not toml [[[\n"},
]


@pytest.mark.parametrize("files", NOT_AUTO, ids=range(len(NOT_AUTO)))
def test_without_auto_mode_unmarked_async_tests_are_reported(tmp_path, files):
    assert lint_in(tmp_path, files) == ["AL701"]


def test_configuration_of_a_parent_folder_applies(tmp_path):
    files = {"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'}
    assert lint_in(tmp_path, files, "tests/unit/test_app.py") == []


def test_the_nearest_configuration_wins(tmp_path):
    files = {"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
             "tests/pytest.ini": "[pytest]\nasyncio_mode = strict\n"}
    assert lint_in(tmp_path, files, "tests/test_app.py") == ["AL701"]


def test_only_files_pytest_collects_are_checked(tmp_path):
    (tmp_path / "app.py").write_text(TEST, encoding="utf-8")
    result = Linter(settings_for("AL701", root=tmp_path)).lint_path(str(tmp_path / "app.py"))
    assert result.findings == []
