"""A project that is itself a library the catalog knows (a checkout of airflow, langchain_core or llama_index)
keeps its project index: its own regular package is project code. A module that only shares a library's name
(`redis.py` in a folder without `__init__.py`) stays the library."""

from __future__ import annotations

from helpers import settings_for

from async_lint.runner import lint_paths


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [str(root / name) for name in files if name.endswith(".py")]


def test_a_catalog_library_linted_as_the_project_keeps_its_index(tmp_path):
    paths = _write(tmp_path, {
        "airflow/__init__.py": "",
        "airflow/jobs.py": "async def run_job(name):\n    return name\n",
        "airflow/api.py": "from airflow.jobs import run_job\n\n\nasync def trigger(name):\n"
                          "    run_job(name)\n    return name\n",
    })
    results = lint_paths(paths, settings_for("AL201", root=tmp_path), jobs=1)
    found = {(r.path.rsplit("/", 1)[-1], f.row, f.code) for r in results for f in r.findings}
    assert found == {("api.py", 5, "AL201")}


def test_a_module_named_like_a_library_stays_the_library(tmp_path):
    paths = _write(tmp_path, {
        "scripts/redis.py": "async def get(key):\n    return key\n",
        "scripts/app.py": "import redis\n\n\nasync def read(key):\n    redis.get(key)\n    return key\n",
    })
    results = lint_paths(paths, settings_for("AL201", root=tmp_path), jobs=1)
    assert [f for r in results for f in r.findings] == []
