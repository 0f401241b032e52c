"""Questions the project pass answers without a libcst parse of the module they name (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from async_lint.engine import Linter
from async_lint.runner import lint_paths
from async_lint.source import own_definitions
from helpers import settings_for

FILES = {
    "app/__init__.py": "",
    "app/impl.py": "async def fetch(url):\n    return url\n",
    # no async code: the index finds `helper` and `Store.save` here, sync; `fetch` it only re-exports
    "app/util.py": "from app.impl import fetch\n\n\ndef helper(x):\n    return x\n\n\nclass Store:\n"
                   "    def save(self, item):\n        return item\n",
    "app/routes.py": "from app import util\nfrom app.util import Store\n\n\nasync def handler(store: Store):\n"
                     "    util.helper(1)\n    store.save(2)\n    Store()\n    util.fetch('x')\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\n")
    return tmp_path


def test_own_sync_functions_answer_without_a_parse_and_a_reexport_still_parses(project, monkeypatch):
    parsed_for_summary: list[str] = []
    plain = Linter.lint_bytes

    def spy(self, path, data, force=False, summary_only=False):
        if summary_only:
            parsed_for_summary.append(Path(path).name)
        return plain(self, path, data, force=force, summary_only=summary_only)

    monkeypatch.setattr(Linter, "lint_bytes", spy)
    files = sorted(str(p) for p in project.rglob("*.py"))
    results = lint_paths(files, settings_for("AL2", "AL108", root=project), jobs=1, walked=[str(project)])
    found = [(Path(f.path).name, f.row, f.code) for r in results for f in r.findings]
    # `util.fetch` is `impl.fetch` re-exported: a coroutine never awaited
    assert found == [("routes.py", 9, "AL201")]
    # util.py was parsed for its summary once: for the re-export; with only its own functions, class and
    # method asked about (coroutine? a class? an async twin of `Store.save`, AL108?), never
    assert parsed_for_summary == ["util.py"]

    parsed_for_summary.clear()
    (project / "app" / "routes.py").write_text(FILES["app/routes.py"].replace("    util.fetch('x')\n", ""))
    results = lint_paths(files, settings_for("AL2", "AL108", root=project), jobs=1, walked=[str(project)])
    assert [f for r in results for f in r.findings] == []
    assert parsed_for_summary == []


def test_own_definitions_are_read_from_the_symbol_table() -> None:
    source = (b"import x\n\ndef a(): pass\n\nclass C(B):\n    def m(self): pass\n    class D:\n"
              b"        def n(self): pass\n\nif X:\n    def b(): pass\n\nl = [i for i in y]\nf = lambda: 1\n"
              b"def genexpr(): pass\n")
    # nested classes, comprehension and lambda names left out
    assert own_definitions(source) == {"a", "b", "C", "C.m"}
    assert own_definitions(b"async def a(): pass\n") is None
    assert own_definitions(b"# async someday\n'''async'''\ndef a(): pass\n") == {"a"}
    assert own_definitions(b"def broken(:\n") is None


def test_a_warm_run_reads_no_symbol_table(project, monkeypatch):
    import async_lint.source as source

    (project / "app" / "routes.py").write_text(FILES["app/routes.py"].replace("    util.fetch('x')\n", ""))
    read: list[int] = []
    plain = source.own_definitions

    def counting(data):
        read.append(len(data))
        return plain(data)

    monkeypatch.setattr(source, "own_definitions", counting)
    files = sorted(str(p) for p in project.rglob("*.py"))
    settings = settings_for("AL2", "AL108", root=project)
    first = lint_paths(files, settings, jobs=1, walked=[str(project)], use_cache=True)
    assert len(read) == 1  # util.py's
    read.clear()
    second = lint_paths(files, settings, jobs=1, walked=[str(project)], use_cache=True)
    assert read == []
    assert [f for r in first for f in r.findings] == [f for r in second for f in r.findings] == []
