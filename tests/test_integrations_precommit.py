"""The pre-commit hooks, tested through the real `pre-commit try-repo` on a throwaway git repository.

try-repo installs a hooks repository into a fresh environment, as a user's `pre-commit run` does. The hooks
repository here is a git copy of this working tree (what is on disk, committed or not, less virtualenvs and caches),
so the test needs git and the package index (for the build dependencies), but not a git checkout of the project.
It takes a few seconds with a warm pip cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", ".tox", "__pycache__", "*.egg-info", ".pytest_cache",
                                    ".hypothesis", ".async_lint_cache", "build", "dist", "*.pyc")


def _git_env() -> dict[str, str]:
    # Inside a git hook GIT_DIR and friends point at another repository; drop them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    return env


pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, env=_git_env(), capture_output=True)


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """This working tree as a git repository with everything committed, which is what try-repo installs from."""
    repo = tmp_path_factory.mktemp("hooks") / "async-lint"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    git("init", "-q", ".", cwd=repo)
    git("add", "-A", "-f", ".", cwd=repo)
    git("commit", "-q", "--no-verify", "-m", "snapshot", cwd=repo)
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """One hook environment for the module: try-repo builds it once, later runs reuse it."""
    return tmp_path_factory.mktemp("pre-commit-home")


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", ".", cwd=path)
    for name, text in files.items():
        (path / name).write_text(text)
    git("add", "-A", cwd=path)
    return path


def try_repo(hooks: Path, repo: Path, home: Path, hook: str, *args: str) -> subprocess.CompletedProcess:
    env = _git_env()
    env["PRE_COMMIT_HOME"] = str(home)
    env.pop("PRE_COMMIT", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), hook, *args],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_hooks_file_declares_both_hooks():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"async-lint", "async-lint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types"] == ["python"] and hook["require_serial"] is True
    assert hooks["async-lint"]["entry"] == "async-lint check --force-exclude"
    assert hooks["async-lint-fix"]["entry"] == "async-lint check --force-exclude --fix"


@pytest.mark.slow
def test_async_lint_hook_with_real_pre_commit(tmp_path, hooks_repo, pre_commit_home):
    repo = make_repo(tmp_path / "repo", {
        "app.py": BLOCKING,
        "clean.py": CLEAN,
        "silenced.py": BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: AL101"),
        # Not Python by pre-commit's types: the hook must not hand it to async-lint (which lints named files).
        "notes.txt": BLOCKING,
    })
    proc = try_repo(hooks_repo, repo, pre_commit_home, "async-lint", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "async-lint....." in out and "Failed" in out
    assert "app.py:4:5: AL101 [*] `time.sleep()` blocks the event loop" in out
    assert "Found 1 finding (1 fixable with --fix) in 3 files" in out
    assert "notes.txt" not in out and "silenced.py:" not in out

    # The environment is built now: a run on a clean file passes.
    proc = try_repo(hooks_repo, repo, pre_commit_home, "async-lint", "--files", "clean.py", "silenced.py")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out


def _check_has_fix() -> bool:
    proc = subprocess.run([sys.executable, "-m", "async_lint", "check", "--help"], capture_output=True, text=True)
    return "--fix" in proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(not _check_has_fix(), reason="enable when `async-lint check --fix` exists (the lead is building "
                                                  "it); this test then runs by itself")
def test_async_lint_fix_hook_with_real_pre_commit(tmp_path, hooks_repo, pre_commit_home):
    repo = make_repo(tmp_path / "repo", {"app.py": BLOCKING})
    proc = try_repo(hooks_repo, repo, pre_commit_home, "async-lint-fix", "--all-files")
    out = proc.stdout + proc.stderr
    # pre-commit fails a hook that changed files, so the user sees and stages the fix.
    assert proc.returncode == 1, out
    assert "await asyncio.sleep(1)" in (repo / "app.py").read_text(), out
