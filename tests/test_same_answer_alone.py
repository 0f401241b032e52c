"""Issue 11: pre-commit lints the changed files, CI lints the folder; both must report the same for a file.

For every project fixture under tests/fixtures/project/ and every file in it, the findings of linting that file
alone equal the findings of linting the whole folder restricted to that file, with every rule selected. No result
cache is used (lint_paths caches only when asked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from async_lint.catalog import load_catalog
from async_lint.config import Settings
from async_lint.discovery import discover
from async_lint.runner import lint_paths
from helpers import FIXTURES, expectations

PROJECTS = sorted(p for p in (FIXTURES / "project").iterdir() if p.is_dir())


def _settings(root: Path) -> Settings:
    return Settings(root=str(root), enabled=frozenset(load_catalog().rules))


def _found(results) -> dict[str, set[tuple]]:
    return {r.path: {(f.code, f.row, f.column, f.message, f.fix.message if f.fix else None) for f in r.findings}
            for r in results}


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_one_file_alone_reports_what_the_folder_reports(project):
    settings = _settings(project)
    files = [str(p) for p in discover([project], project, settings.exclude).files]
    assert len(files) > 1
    whole = _found(lint_paths(files, settings, jobs=1, walked=[str(project)]))
    for path in files:
        alone = _found(lint_paths([path], settings, jobs=1))
        assert alone[path] == whole[path], f"{Path(path).relative_to(project)}: alone vs folder differ"


LIFECYCLE_PROJECTS = [p for p in PROJECTS if any("AL40" in line for f in p.rglob("*.py")
                                                   for line in f.read_text(encoding="utf-8").splitlines())]


@pytest.mark.parametrize("project", LIFECYCLE_PROJECTS, ids=lambda p: p.name)
def test_lifecycle_projects_match_their_expectations(project):
    """The AL4xx project fixtures: `# error:` lines are flagged, every other line is not."""
    settings = Settings(root=str(project), enabled=frozenset({"AL401", "AL402"}))
    files = sorted(project.rglob("*.py"))
    results = lint_paths([str(p) for p in files], settings, jobs=1, walked=[str(project)])
    found = {(Path(f.path).relative_to(project).as_posix(), f.row, f.code) for r in results for f in r.findings}
    expected = {(p.relative_to(project).as_posix(), row, code) for p in files for row, code in expectations(p)
                if code in ("AL401", "AL402")}
    assert found == expected
