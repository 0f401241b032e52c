"""Issue 13 (recall), preview behaviours: coroutines handed to project functions (AL201), a sync Session stored on
an object (AL107), overrides of abstract methods (AL107), async twins (AL108). Fixture: tests/fixtures/project/recall."""

from __future__ import annotations

from pathlib import Path

from helpers import FIXTURES, expectations, settings_for

from async_lint.runner import lint_paths

PROJECT = FIXTURES / "project"
RECALL = PROJECT / "recall"
CODES = ("AL201", "AL107", "AL108")


def _lint(paths, preview):
    # the recall fixture's AL108 lines are preview behaviours (flow into callees, stored objects, overrides)
    settings = settings_for(*(CODES if preview else CODES[:2]), root=PROJECT, preview=preview)
    return [f for r in lint_paths([str(p) for p in paths], settings, jobs=1) for f in r.findings]


def _found(findings):
    return {(Path(f.path).name, f.row, f.code) for f in findings}


def _expected(files, preview):
    return {(p.name, row, code) for p in files for row, code in expectations(p, preview=preview) if code in CODES}


def test_preview_findings_match_expectations():
    files = sorted(RECALL.glob("*.py"))
    expected = _expected(files, preview=True)
    assert len(expected) == 13
    assert _found(_lint(files, preview=True)) == expected


def test_without_preview_nothing_new_is_reported():
    files = sorted(RECALL.glob("*.py"))
    assert _found(_lint(files, preview=False)) == _expected(files, preview=False) == set()


def test_one_file_of_the_package_reports_what_the_folder_does():
    """pre-commit names only the changed file: the override in a module without `async` is still found."""
    for name in ("llm.py", "auth.py", "handlers.py"):
        path = RECALL / name
        assert _found(_lint([path], preview=True)) == _expected([path], preview=True), name


def test_messages_name_the_use_the_stored_session_and_the_override():
    findings = _lint(sorted(RECALL.glob("*.py")), preview=True)
    by_place = {(Path(f.path).name, f.row, f.code): f.message for f in findings}
    handoff = by_place[("handlers.py", 19, "AL201")]
    assert "passed to `self.handle()`" in handoff and "`payload` is subscripted in `Handler.handle`" in handoff
    assert "`user_id` is used as a key or an index in `get_instance`" in by_place[("handlers.py", 41, "AL201")]
    stored = by_place[("auth.py", 14, "AL107")]
    assert "TokenProvider._find_user → self.session.query (sqlalchemy.orm.Session.query" in stored
    direct = by_place[("auth.py", 49, "AL107")]  # called on the stored attribute itself, not through a helper
    assert "`self.session` is the `sqlalchemy.orm.Session` that `AuditLog(...)` is given by its callers" in direct
    override = by_place[("llm.py", 13, "AL107")]
    assert "Provider.request → OpenAIProvider.request → " in override
    twin = next(f for f in findings if Path(f.path).name == "llm.py" and f.row == 13 and f.code == "AL108")
    assert "`self.request_async()`" in twin.message and twin.suggestion == "use `await self.request_async(...)`"
