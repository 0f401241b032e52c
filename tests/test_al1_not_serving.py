"""AL101-AL107 skip files that serve no concurrent work: CLI and script folders, `__main__.py`, `cli.py`."""

from __future__ import annotations

import pytest

from helpers import settings_for
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
