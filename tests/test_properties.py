"""Property tests: the linter never crashes, and fixes never break code and settle after one run.

Programs come from hypothesmith (random valid Python) and from mutating the fixtures (random subsets of their
top-level statements, so every rule and fix meets many neighbourhoods).
"""

from __future__ import annotations

import os
import re

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import FIXTURES, settings_for

from async_lint.engine import Linter
from async_lint.fixer import run_fixes

ALL = settings_for("AL")
SOURCES = sorted(p for p in [*FIXTURES.glob("AL*.py"), *(FIXTURES / "fixes").glob("AL*.py")]
                 if not p.name.endswith(".fixed.py"))
MODULES = {p: cst.parse_module(p.read_text()) for p in SOURCES}
COMMON = settings(max_examples=int(os.environ.get("ASYNC_LINT_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])


@st.composite
def mutated_fixture(draw) -> str:
    """A fixture with a random subset of its top-level statements (imports always kept)."""
    path = draw(st.sampled_from(SOURCES))
    module = MODULES[path]
    keep = []
    for statement in module.body:
        is_import = isinstance(statement, cst.SimpleStatementLine) and isinstance(
            statement.body[0], (cst.Import, cst.ImportFrom))
        if is_import or draw(st.booleans()):
            keep.append(statement)
    return module.with_changes(body=keep).code


@COMMON
@given(source=hypothesmith.from_grammar())
def test_random_programs_never_crash_the_linter(source):
    result = Linter(ALL).lint_bytes("generated.py", source.encode("utf-8"), force=True)
    assert result.internal_errors == 0, [f.message for f in result.findings if f.code == "AL002"]


@COMMON
@given(source=mutated_fixture())
def test_fixes_keep_code_valid_and_are_idempotent(source, tmp_path_factory):
    folder = tmp_path_factory.mktemp("prop")
    target = folder / "app.py"
    target.write_text(source)
    outcome = run_fixes([str(target)], ALL, unsafe=True, jobs=1)
    assert not [p for p in outcome.problems if "does not" in p[1]], outcome.problems
    assert all(r.internal_errors == 0 for r in outcome.results)
    fixed = outcome.fixed.get(str(target), source.encode())
    compile(fixed, "app.py", "exec")  # parses and compiles
    target.write_bytes(fixed)
    again = run_fixes([str(target)], ALL, unsafe=True, jobs=1)
    assert again.fixed == {}, "a second --fix run changed the file again"


_ASYNC = re.compile(r"\basync\s+(?=def|with|for)|\bawait\s+")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_without_async_there_is_no_blocking_finding(path):
    """Metamorphic: strip every `async`/`await` keyword, and no AL1xx finding may remain (sync code may block)."""
    source = _ASYNC.sub("", path.read_text())
    try:
        compile(source, str(path), "exec")
    except SyntaxError:
        pytest.skip("stripping async made the fixture invalid (e.g. async comprehension)")
    result = Linter(settings_for("AL1")).lint_bytes(str(path), source.encode(), force=True)
    assert [f for f in result.findings if f.code.startswith("AL1")] == []
