"""Shared test helpers: lint fixture files in-process and read their inline expectations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from async_lint.config import Settings
from async_lint.catalog import load_catalog
from async_lint.runner import lint_paths

FIXTURES = Path(__file__).parent / "fixtures"
BEHAVIOUR = Path(__file__).parent / "behaviour"  # small programs run before and after an unsafe fix
_EXPECT = re.compile(r"#\s*error:\s*(?P<codes>AL\d{3}(?:\s*,\s*AL\d{3})*)")
# A line flagged only in preview (a new behaviour of the rule): `# preview-error: AL501`.
_PREVIEW = re.compile(r"#\s*preview-error:\s*(?P<codes>AL\d{3}(?:\s*,\s*AL\d{3})*)")
_SELECT = re.compile(r"^#\s*select:\s*(?P<codes>[A-Z0-9, ]+)$", re.MULTILINE)


def settings_for(*selectors: str, root: Path = FIXTURES, **kwargs) -> Settings:
    catalog = load_catalog()
    enabled = {code for code in catalog.rules if any(code.startswith(s) for s in selectors)}
    return Settings(root=str(root), enabled=frozenset(enabled), **kwargs)


def expectations(path: Path, preview: bool = False) -> set[tuple[int, str]]:
    """(line, code) pairs named by trailing `# error: AL101` comments (and `# preview-error: AL101` ones when
    `preview`)."""
    expected = set()
    patterns = (_EXPECT, _PREVIEW) if preview else (_EXPECT,)
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for pattern in patterns:
            match = pattern.search(line)
            if match:
                for code in match.group("codes").split(","):
                    expected.add((row, code.strip()))
    return expected


def has_preview_expectations(path: Path) -> bool:
    return _PREVIEW.search(path.read_text(encoding="utf-8")) is not None


def selection_of(path: Path) -> tuple[str, ...]:
    """A fixture checks the rule it is named after, unless a `# select: AL2, AL107` header says otherwise."""
    match = _SELECT.search(path.read_text(encoding="utf-8"))
    if match:
        return tuple(code.strip() for code in match.group("codes").split(",") if code.strip())
    return (path.stem.split("_")[0],)


def lint(path: Path, *selectors: str, preview: bool = False):
    """Lint one file with the project pass (its own module is the project), as the CLI would."""
    settings = settings_for(*(selectors or selection_of(path)), preview=preview)
    [result] = lint_paths([str(path)], settings, jobs=1)
    return result


def run_program(program: Path, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run a behaviour program in its own interpreter; one that does not finish in time fails the test."""
    import pytest

    try:
        return subprocess.run([sys.executable, str(program)], capture_output=True, text=True, timeout=timeout,
                              cwd=program.parent)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{program.name} did not finish in {timeout} s (a deadlock?)")


def fix_unsafely(path: Path, codes: str, *extra: str):
    """`async-lint check --fix --unsafe-fixes --no-cache --select CODES PATH`, in process (click's result)."""
    from click.testing import CliRunner

    from async_lint.cli import cli

    return CliRunner().invoke(cli, ["check", "--fix", "--unsafe-fixes", "--no-cache", *extra, "--select", codes,
                                    str(path)])
