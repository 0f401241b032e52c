"""AL303 skips sample, build and benchmark code (`examples/`, `example_dags/`, `docs/`, `_website/`,
`benchmarks/`): not a service."""

from __future__ import annotations

import pytest

from helpers import settings_for
from async_lint.runner import lint_paths

SOURCE = "import requests\n\ndef fetch_weather(city):\n    return requests.get('https://w.example/' + city).json()\n"


@pytest.mark.parametrize("rel", ["examples/weather.py", "pkg/example_dags/nightly.py", "docs/build_index.py",
                                 "js/_website/gen/pages.py", "pkg/evaluation/benchmarks/squad.py"])
def test_not_reported_in_sample_code(tmp_path, rel):
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(SOURCE)
    [result] = lint_paths([str(path)], settings_for("AL303", root=tmp_path), jobs=1)
    assert [f.code for f in result.findings] == []


@pytest.mark.parametrize("rel", ["pkg/weather.py", "pkg/example_client.py", "pkg/documents/loader.py",
                                 "pkg/benchmark_client.py"])
def test_reported_in_service_code(tmp_path, rel):
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(SOURCE)
    [result] = lint_paths([str(path)], settings_for("AL303", root=tmp_path), jobs=1)
    assert [(f.row, f.code) for f in result.findings] == [(4, "AL303")]
