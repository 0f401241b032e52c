"""Acceptance: the pre-commit hooks honour the project's excludes. pre-commit names every staged file on the
command line, and a file named there is linted whatever `exclude` says (as ruff), so the hooks pass
`--force-exclude`: `pre-commit try-repo` on a project whose pyproject.toml excludes `migrations/` reports nothing
from there. Runs the real pre-commit offline on a local copy of this working tree (see
test_integrations_precommit.py, whose helpers it uses)."""

from __future__ import annotations

import shutil

import pytest

from test_integrations_precommit import BLOCKING, hooks_repo, make_repo, pre_commit_home, try_repo  # noqa: F401

pytestmark = [pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git"),
              pytest.mark.slow]  # a real `pre-commit try-repo` (~1 min): .ci/run runs it

PYPROJECT = "[project]\nname = 'demo'\n\n[tool.async-lint]\nextend-exclude = ['migrations/']\n"


def test_try_repo_reports_nothing_from_an_excluded_folder(tmp_path, hooks_repo, pre_commit_home):
    (tmp_path / "repo" / "migrations").mkdir(parents=True)
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, "app.py": BLOCKING,
                                         "migrations/0001_initial.py": BLOCKING})
    proc = try_repo(hooks_repo, repo, pre_commit_home, "async-lint", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "app.py:4:5: AL101" in out
    assert "migrations" not in out and "in 1 file" in out, out

    # Only excluded files staged: the hook passes.
    proc = try_repo(hooks_repo, repo, pre_commit_home, "async-lint", "--files", "migrations/0001_initial.py")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Passed" in out, out

    # The fix hook leaves the excluded file alone too.
    proc = try_repo(hooks_repo, repo, pre_commit_home, "async-lint-fix", "--all-files")
    assert "await asyncio.sleep(1)" in (repo / "app.py").read_text(), proc.stdout + proc.stderr
    assert (repo / "migrations" / "0001_initial.py").read_text() == BLOCKING
