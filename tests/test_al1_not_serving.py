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
