"""AL101-AL107 skip files that serve no concurrent work: CLI and script folders, `__main__.py`, `cli.py`."""

from __future__ import annotations

import pytest

from pathlib import Path

from helpers import FIXTURES, expectations, settings_for
from async_lint.runner import lint_paths

SOURCE = "import time\n\nasync def handler():\n    time.sleep(1)\n"


@pytest.mark.parametrize("rel", ["pkg/cli/deploy.py", "pkg/_cli/run.py", "scripts/seed.py", "pkg/__main__.py", "pkg/cli.py"])
def test_not_reported_in_cli_example_and_script_files(tmp_path, rel):
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(SOURCE)
    [result] = lint_paths([str(path)], settings_for("AL1", root=tmp_path), jobs=1)
    assert [f.code for f in result.findings] == []


@pytest.mark.parametrize("rel", ["pkg/api/routes.py", "pkg/clients.py", "pkg/client/cli_helpers.py",
                                 "examples/shop/main.py"])
def test_reported_in_serving_code(tmp_path, rel):
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(SOURCE)
    [result] = lint_paths([str(path)], settings_for("AL1", root=tmp_path), jobs=1)
    assert [f.code for f in result.findings] == ["AL101"]


def test_al107_follows_open_only_with_al110_selected(tmp_path):
    """AL110 is opt-in: without it, a chain that ends in `open()` is no AL107 finding; default sinks still are."""
    path = tmp_path / "service.py"
    path.write_text("import time\n\ndef load(p):\n    return open(p).read()\n\ndef pause():\n    time.sleep(1)\n\n"
                    "async def handler(p):\n    load(p)\n    pause()\n")
    [alone] = lint_paths([str(path)], settings_for("AL107", root=tmp_path), jobs=1)
    assert [(f.row, f.code) for f in alone.findings] == [(11, "AL107")]
    [both] = lint_paths([str(path)], settings_for("AL107", "AL110", root=tmp_path), jobs=1)
    assert [(f.row, f.code) for f in both.findings] == [(10, "AL107"), (11, "AL107")]


TOOLKIT = FIXTURES / "project" / "toolkit"
AL1 = ("AL101", "AL102", "AL103", "AL104", "AL105", "AL106", "AL107")


@pytest.mark.parametrize("alone", [False, True], ids=["folder", "one-file"])
def test_coroutines_only_cli_code_awaits_serve_nothing(alone):
    """An `async def` that only CLI commands await, across modules (and name cycles), blocks nobody; one that a
    route, a decorated entry point or a sync function of the package also reaches is reported. Linting each
    file alone gives the same answer."""
    files = sorted(TOOLKIT.rglob("*.py"))
    settings = settings_for(*AL1, root=TOOLKIT)
    if alone:
        results = [r for p in files for r in lint_paths([str(p)], settings, jobs=1)]
    else:
        results = lint_paths([str(p) for p in files], settings, jobs=1, walked=[str(TOOLKIT)])
    found = {(Path(f.path).relative_to(TOOLKIT).as_posix(), f.row, f.code) for r in results for f in r.findings}
    expected = {(p.relative_to(TOOLKIT).as_posix(), row, code) for p in files for row, code in expectations(p)
                if code in AL1}
    assert ("toolkit/envs.py", 20, "AL104") in expected
    assert found == expected


def test_a_run_on_one_file_scans_the_package_for_callers_once(tmp_path, monkeypatch):
    """The caller search of a one-file run (pre-commit) reads the names each package file calls from the cache
    the first such run filled: the next one scans no file again, and answers the same."""
    import shutil

    import async_lint.serving as serving

    project = tmp_path / "toolkit"
    shutil.copytree(TOOLKIT, project)
    settings = settings_for(*AL1, root=project)
    target = str(project / "toolkit" / "envs.py")
    scanned: list[int] = []
    plain = serving.CALLED

    class Counting:
        def findall(self, data):
            scanned.append(len(data))
            return plain.findall(data)

    monkeypatch.setattr(serving, "CALLED", Counting())
    first = lint_paths([target], settings, jobs=1, use_cache=True)
    assert scanned, "the first one-file run scans the package's files for callers"
    scanned.clear()
    second = lint_paths([target], settings, jobs=1, use_cache=True)
    assert scanned == []
    assert [(f.row, f.code) for f in second[0].findings] == [(f.row, f.code) for f in first[0].findings]
