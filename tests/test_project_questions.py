"""What the project pass parses for the questions the first pass left open (issue 14): each module once, and
what a question's answer passes through (re-exports, the sync code that hands a coroutine on) is known."""

from __future__ import annotations

from pathlib import Path

from async_lint.engine import Linter
from async_lint.runner import lint_paths
from helpers import settings_for


def _project(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "pyproject.toml").write_text("[tool.async-lint]\n")
    return sorted(str(p) for p in root.rglob("*.py"))


def _found(results) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.row, f.code) for r in results for f in r.findings]


def test_a_module_is_parsed_once_for_its_summary(tmp_path, monkeypatch):
    files = _project(tmp_path, {
        "app/__init__.py": "",
        "app/impl.py": "async def fetch(url):\n    return url\n",
        "app/util.py": "from app.impl import fetch\n\n\ndef helper(x):\n    return x\n",
        "app/routes.py": "from app import util\n\n\nasync def handler():\n    util.helper(1)\n    util.fetch('x')\n",
    })
    parsed_for_summary: list[str] = []
    plain = Linter.lint_bytes

    def spy(self, path, data, force=False, summary_only=False):
        if summary_only:
            parsed_for_summary.append(Path(path).name)
        return plain(self, path, data, force=force, summary_only=summary_only)

    monkeypatch.setattr(Linter, "lint_bytes", spy)
    results = lint_paths(files, settings_for("AL1", "AL2", root=tmp_path), jobs=1, walked=[str(tmp_path)])
    assert _found(results) == [("routes.py", 6, "AL201")]  # `util.fetch` is `impl.fetch`, re-exported
    # asked about (1b-2), then matched by a word search (1b-4): parsed once, not once per step
    assert parsed_for_summary == ["util.py"]


def test_a_reexport_in_a_module_without_async_code_is_followed(tmp_path):
    # `app.notify` is `app.util.notify`, a plain function: to_thread(app.notify(1)) runs it on the loop
    files = _project(tmp_path, {
        "app/__init__.py": "from app.util import notify\n",
        "app/util.py": "def notify(x):\n    return x\n\n\ndef helper():\n    return 1\n",
        "app/routes.py": "import asyncio\n\nimport app\nfrom app import util\n\n\nasync def handler():\n"
                         "    util.helper()\n    await asyncio.to_thread(app.notify(1))\n",
    })
    results = lint_paths(files, settings_for("AL2", root=tmp_path), jobs=1, walked=[str(tmp_path)])
    assert _found(results) == [("routes.py", 9, "AL206")]


def test_sync_code_that_hands_a_coroutine_on_is_a_caller(tmp_path):
    # `prepare` is awaited by a CLI command, and also run by jobs.start (sync code with no `async` in it):
    # it serves more than the CLI, so its blocking call is reported
    files = _project(tmp_path, {
        "app/__init__.py": "from app.work import prepare\n",
        "app/work.py": "import time\n\n\nasync def prepare():\n    time.sleep(1)\n",
        "app/cli.py": "import argparse\n\nfrom app import prepare\n\n\nasync def main():\n    await prepare()\n",
        "app/jobs.py": "from app import prepare\n\n\ndef start(loop):\n"
                       "    return loop.run_until_complete(prepare())\n\n\ndef helper():\n    return 1\n",
        "app/routes.py": "from app import jobs\n\n\nasync def handler():\n    jobs.helper()\n",
    })
    results = lint_paths(files, settings_for("AL101", "AL201", root=tmp_path), jobs=1, walked=[str(tmp_path)])
    assert ("work.py", 5, "AL101") in _found(results)
