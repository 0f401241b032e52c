"""AL705 reads pytest-asyncio's mode like AL701 and leaves anyio/trio files alone; AL706 follows fixtures across
files (a conftest's client fixture); AL705/AL706 look at test files only."""

from __future__ import annotations

import textwrap

import pytest

from async_lint.runner import lint_paths
from helpers import settings_for

STRICT_FIXTURE = """
import pytest

@pytest.fixture
async def client():
    yield None
"""


def lint_tree(tmp_path, files: dict[str, str], code: str) -> list[tuple[str, str]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    paths = sorted(str(p) for p in tmp_path.rglob("*.py"))
    results = lint_paths(paths, settings_for(code, root=tmp_path), jobs=1)
    return sorted((r.path.replace(str(tmp_path) + "/", ""), f.code) for r in results for f in r.findings)


AUTO = [
    {"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'},
    {"pytest.ini": "[pytest]\nasyncio_mode = auto\n"},
    {"setup.cfg": "[tool:pytest]\nasyncio_mode = auto\n"},
    {"tox.ini": "[pytest]\naddopts = --asyncio-mode=auto\n"},
]


@pytest.mark.parametrize("config", AUTO, ids=lambda c: next(iter(c)))
def test_al705_auto_mode_runs_plain_async_fixtures(tmp_path, config):
    assert lint_tree(tmp_path, {**config, "tests/conftest.py": STRICT_FIXTURE}, "AL705") == []


def test_al705_strict_mode_is_the_default_and_read_from_the_nearest_config(tmp_path):
    files = {"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
             "tests/pytest.ini": "[pytest]\nasyncio_mode = strict\n",
             "tests/conftest.py": STRICT_FIXTURE, "other/test_x.py": STRICT_FIXTURE}
    assert lint_tree(tmp_path, files, "AL705") == [("tests/conftest.py", "AL705")]


@pytest.mark.parametrize("marker", ["pytestmark = pytest.mark.anyio\n",
                                    "@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n",
                                    "import trio\n"])
def test_al705_anyio_and_trio_run_their_own_fixtures(tmp_path, marker):
    assert lint_tree(tmp_path, {"test_app.py": STRICT_FIXTURE + marker}, "AL705") == []


def test_al705_only_in_test_files(tmp_path):
    assert lint_tree(tmp_path, {"app/fixtures.py": STRICT_FIXTURE, "test_app.py": STRICT_FIXTURE},
                     "AL705") == [("test_app.py", "AL705")]


CONFTEST = """
import httpx
import pytest
import pytest_asyncio
from fastapi.testclient import TestClient

@pytest_asyncio.fixture
async def ac():
    async with httpx.AsyncClient(base_url="http://test") as client:
        yield client

@pytest.fixture
def client():
    return TestClient(None)
"""

TESTS = """
async def test_async(ac):
    ac.websocket_connect("/ws")

def test_sync(client):
    client.websocket_connect("/ws")
"""


def test_al706_follows_a_conftest_fixture_that_yields_an_async_client(tmp_path):
    files = {"tests/__init__.py": "", "tests/conftest.py": CONFTEST, "tests/test_ws.py": TESTS}
    assert lint_tree(tmp_path, files, "AL706") == [("tests/test_ws.py", "AL706")]


def test_al706_a_fixture_name_defined_twice_differently_is_not_trusted(tmp_path):
    other = "import pytest\n\n@pytest.fixture\ndef ac():\n    return object()\n"
    files = {"a/conftest.py": CONFTEST, "b/conftest.py": other, "b/test_ws.py": TESTS}
    assert lint_tree(tmp_path, files, "AL706") == []


def test_al502_not_in_tests_that_provoke_races(tmp_path):
    race = ("import asyncio\n\nasync def test_race(update):\n"
            "    await asyncio.gather(update(), update(), return_exceptions=True)\n")
    assert lint_tree(tmp_path, {"tests/test_race.py": race, "app/jobs.py": race}, "AL502") == [
        ("app/jobs.py", "AL502")]
