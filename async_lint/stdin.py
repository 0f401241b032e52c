"""`async-lint check -` (or `--stdin-filename PATH`): lint the source read from standard input, as ruff does.

The findings are reported under the `--stdin-filename` path (default `-`), whose configuration, per-file ignores
and package context are used; the file itself is not read. `--fix` prints the fixed source on stdout (always,
changed or not) and the findings that remain on stderr; `--diff` prints the diff the fixes would make.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from async_lint.api import fix_rounds, lint_source
from async_lint.config import Settings
from async_lint.finding import Finding
from async_lint.paths import display_path
from async_lint.reporters import summary_line, write_report

STDIN = "-"


def stdin_target(paths: tuple[Path, ...], stdin_filename: Path | None) -> Path | None:
    """The path stdin is linted as, or None when stdin is not read. With `--stdin-filename` stdin is read and
    other paths are ignored with a warning (as ruff does); without it, `-` must be the only path (ValueError)."""
    dash = [p for p in paths if str(p) == STDIN]
    if stdin_filename is not None:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for path in paths:
            if str(path) != STDIN:
                err.print(f"[yellow]warning:[/] ignoring {escape(str(path))} in favor of standard input", markup=True)
        return stdin_filename
    if not dash:
        return None
    if len(paths) > 1:
        raise ValueError("`-` (read standard input) cannot be combined with other paths")
    return Path(STDIN)


def _on_disk(path: str, data: bytes) -> bool:
    try:
        return Path(path).read_bytes() == data
    except OSError:
        return False


def check_stdin(target: Path, settings: Settings, fmt: str, *, fix: bool = False, diff: bool = False,
                unsafe: bool = False, exit_zero: bool = False, quiet: bool = False, statistics: bool = False,
                show_traceback: bool = False) -> int:
    """Lint (or fix) standard input as the file `target`; returns the exit code."""
    started = time.perf_counter()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for note in getattr(settings, "notes", ()):
        err.print(f"[yellow]warning:[/] {escape(note)}", markup=True)
    name = str(target)
    data = sys.stdin.buffer.read()
    fixed, applied = data, 0
    if fix or diff:
        fixed, applied, result, problems = fix_rounds(data, name, settings, unsafe)
        for problem in problems:
            err.print(f"[yellow]warning:[/] {escape(display_path(name))}: {escape(problem)}", markup=True)
    else:
        result = lint_source(data, name, settings)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(display_path(name))}: {escape(warning)}", markup=True)
    findings = sorted(result.findings, key=Finding.sort_key)
    if not _on_disk(name, fixed):
        # The reporters show code frames from the file on disk, which does not hold this source.
        for finding in findings:
            finding.show_frame = False

    if diff:
        if fixed != data:
            from async_lint.fixer import unified_diff

            sys.stdout.write(unified_diff(display_path(name), data, fixed))
        if not quiet:
            err.print(f"1 file would be changed ({applied} fixes)" if fixed != data else "No fixes to apply.")
        return 2 if result.internal_errors else 1 if fixed != data else 0
    if fix:
        sys.stdout.flush()
        sys.stdout.buffer.write(fixed)
        sys.stdout.buffer.flush()
    # With --fix stdout holds the source: everything else goes to stderr.
    from async_lint.cli import _Output  # stdout whose reader went away: exit 2, as for files

    out = err if fix else _Output(highlight=False, soft_wrap=True)
    stream = sys.stderr if fix else sys.stdout
    catalog = settings.catalog()
    write_report(fmt, findings, catalog, stream=stream, console=out, statistics=statistics,
                 suppressed=Counter(result.suppressed))
    if show_traceback:
        for finding in findings:
            if finding.code == "AL002" and finding.suggestion:
                err.print(f"{finding.path}:\n{finding.suggestion}", markup=False)
    if not quiet and (fmt in ("full", "concise") or statistics and fmt != "json"):
        out.print(summary_line(findings, 1, time.perf_counter() - started, applied, unsafe))
        if sum(result.suppressed.values()):
            out.print(f"{sum(result.suppressed.values())} suppressed by noqa.")
    if result.internal_errors:
        err.print(f"[bold red]error:[/] {result.internal_errors} internal error(s); rerun with --show-traceback "
                  "and report them", markup=True)
        return 2
    return 1 if findings and not exit_zero else 0
