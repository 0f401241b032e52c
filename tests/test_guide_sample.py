"""The guide's sample application (tests/fixtures/guide_app), linted as a new user would after copying it.

The sample is a small FastAPI project (async SQLAlchemy, httpx, Celery, redis, a websocket manager, pytest
fixtures in pytest-asyncio's strict mode) with the pitfalls the guide walks through. It is copied out of the
repository (whose own configuration excludes tests/fixtures) and linted with `async-lint check --preview` and the
default selection: every `# error: ALxxx` line must be reported with that code, and nothing else, so the sample's
correct parts (lifespan client, `to_thread`, guarded broadcast, `@pytest_asyncio.fixture`, ...) stay clean.
A `# AL803 (...)` comment marks a line another rule may report (its assertion is added where that rule lives).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli
from helpers import FIXTURES, expectations

SAMPLE = FIXTURES / "guide_app"
_PENDING = re.compile(r"#\s*(?P<code>AL\d{3}) \(")  # `# AL803 (check-then-act-across-await)`: may be reported


def _lint(root: Path, *paths: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["check", "--preview", "--no-cache", "--output-format", "json", *paths],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


@pytest.fixture
def copied(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "guide_app"
    shutil.copytree(SAMPLE, root)
    monkeypatch.chdir(root)
    return root


def _expected(root: Path) -> tuple[set[tuple[str, int, str]], set[tuple[str, int, str]]]:
    required, allowed = set(), set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        required |= {(rel, row, code) for row, code in expectations(path)}
        for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            allowed |= {(rel, row, m.group("code")) for m in _PENDING.finditer(line)}
    return required, allowed


def _found(root: Path, findings: list[dict]) -> set[tuple[str, int, str]]:
    return {(Path(f["filename"]).resolve().relative_to(root.resolve()).as_posix(), f["location"]["row"], f["code"])
            for f in findings}


def test_sample_reports_exactly_its_pitfalls(copied):
    required, allowed = _expected(copied)
    found = _found(copied, _lint(copied, "."))
    assert sorted(required - found) == [], "pitfalls the guide shows that were not reported"
    assert sorted(found - required - allowed) == [], "findings on lines the guide presents as correct"


def test_each_pitfall_of_the_guide_is_in_the_sample(copied):
    """The guide's list: each pitfall is reported by the rule that names it, in the file the guide puts it in."""
    required, _ = _expected(copied)
    by_code = {(rel, code) for rel, _, code in required}
    for rel, code in [
        ("tests/conftest.py", "AL705"),  # async fixture under plain @pytest.fixture in strict mode
        ("tests/test_api.py", "AL706"),  # websocket_connect on an httpx.AsyncClient
        ("app/main.py", "AL102"),  # Celery results read in an async route (and a blocking requests call)
        ("tests/conftest.py", "AL707"),  # in-memory SQLite engine with a pool of many connections
        ("app/ws.py", "AL602"),  # broadcast aborted by one dead websocket
        ("app/main.py", "AL109"),  # password hashing through a sync helper of another module
        ("app/main.py", "AL201"),  # a coroutine never awaited
        ("app/main.py", "AL303"),  # a request that can wait forever (no timeout)
        ("app/main.py", "AL401"),  # a client never closed
        ("app/cache.py", "AL803"),  # a lazily connected cache: two concurrent requests both connect
    ]:
        assert (rel, code) in by_code, (rel, code)
    assert len([c for c in required if c[2] == "AL102"]) == 3  # requests.get, AsyncResult.get, delay().get


def test_the_route_module_alone_gets_the_same_answer(copied):
    """pre-commit passes one changed file: the helper in app/security.py is still found (AL109), and the
    coroutine in app/db.py (AL201)."""
    required, allowed = _expected(copied)
    found = _found(copied, _lint(copied, "app/main.py"))
    main = {item for item in required if item[0] == "app/main.py"}
    assert found - {a for a in allowed if a[0] == "app/main.py"} == main


def test_without_preview_the_preview_rules_stay_quiet(copied):
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", "."])
    codes = {f["code"] for f in json.loads(result.output)}
    assert codes.isdisjoint({"AL109", "AL602", "AL705", "AL706", "AL707", "AL803"}), codes
    assert {"AL102", "AL201", "AL401"} <= codes
