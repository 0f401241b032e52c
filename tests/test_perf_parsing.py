"""Performance shortcuts that must not change what the checks see (issue 14)."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import libcst as cst
import pytest

from async_lint.parsing import parse_module
from async_lint.runner import lint_paths
from async_lint.serving import CALLED
from helpers import FIXTURES, settings_for

SOURCES = sorted(FIXTURES.glob("*.py")) + sorted((Path(__file__).parent.parent / "async_lint").rglob("*.py"))[:40]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_unchecked_parse_builds_the_same_tree(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast, reference = parse_module(text), cst.parse_module(text)
    assert fast.deep_equals(reference)
    assert fast.code == text


def test_nodes_built_elsewhere_are_still_validated() -> None:
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def broken(:\n")
    with pytest.raises(cst.CSTValidationError):  # also after the parser failed
        cst.Name("1x")


def test_a_run_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import time\n\n\nasync def handler():\n    time.sleep(1)\n")
    before = gc.get_threshold()
    results = lint_paths([str(tmp_path / "app.py")], settings_for("AL1", root=tmp_path), jobs=1)
    assert [f.code for f in results[0].findings] == ["AL101"]
    assert gc.get_threshold() == before


PLAIN_CALLED = re.compile(rb"([A-Za-z_][A-Za-z0-9_]*)\s*\(")  # what serving.CALLED stands for, written plainly


@pytest.mark.parametrize("data", [
    b"foo(1)\nbar (2)\nbaz\n(3)\nx.meth(4)\n",
    b"1abc(2) a1b(3) _x9 (4) name_not_called = 1\n",
    b"def f(a, b): return g(a)(b)\nclass C(Base): pass\n",
    b"long_identifier_without_call + other_long_identifier_without_call\n",
    b"",
], ids=["calls", "digits", "defs", "no-calls", "empty"])
def test_called_names_are_the_plain_patterns(data: bytes) -> None:
    assert CALLED.findall(data) == PLAIN_CALLED.findall(data)


def test_called_names_match_the_plain_pattern_on_real_sources() -> None:
    for path in SOURCES:
        data = path.read_bytes()
        assert CALLED.findall(data) == PLAIN_CALLED.findall(data), path


def test_a_forked_worker_reuses_the_linter_of_the_process_that_started_the_pool(tmp_path: Path) -> None:
    import async_lint.workers as runner

    settings = settings_for("AL1", root=tmp_path)
    parent = runner._new_linter(settings, frozenset({"app"}))
    saved = runner._parent_linter, runner._worker_linter
    threshold = gc.get_threshold()
    try:
        runner._parent_linter = parent
        runner._init_worker(settings, frozenset({"app"}))  # what a forked worker sees: the same objects
        assert runner._worker_linter is parent
        runner._init_worker(settings_for("AL2", root=tmp_path), frozenset({"app"}))  # other settings: its own
        assert runner._worker_linter is not parent and runner._worker_linter.settings.enabled != settings.enabled
    finally:
        runner._parent_linter, runner._worker_linter = saved
        gc.set_threshold(*threshold)  # _init_worker sets a worker's


def test_a_run_reads_each_file_once_for_its_cache_keys_and_searches(tmp_path: Path, monkeypatch) -> None:
    import collections
    import shutil

    import async_lint.workers as workers

    project = tmp_path / "toolkit"
    shutil.copytree(FIXTURES / "project" / "toolkit", project)
    settings = settings_for("AL1", "AL2", root=project)
    target = str(project / "toolkit" / "envs.py")
    lint_paths([target], settings, jobs=1, use_cache=True)  # fills the cache
    reads: collections.Counter[str] = collections.Counter()
    plain = workers.read_file
    monkeypatch.setattr(workers, "read_file", lambda path: reads.update([path]) or plain(path))
    lint_paths([target], settings, jobs=1, use_cache=True)  # a pre-commit run: every phase asks the package
    assert reads and max(reads.values()) == 1
