"""A progress bar on stderr for long runs, for people watching a terminal and nobody else.

Shown only when stderr is a terminal, the run has more than PROGRESS_THRESHOLD files and the output is for people
(`full`, `concise`, `--statistics`); never in CI logs, pipes, `--quiet` or machine-read formats. The bar is
transient: it disappears when the run ends, before the findings are printed.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

from async_lint.reporters import MACHINE_FORMATS

PROGRESS_THRESHOLD = 200


def _is_tty(stream: TextIO) -> bool:
    # Deliberately not rich's notion of a terminal, which FORCE_COLOR (set by many CI systems) turns on.
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def wants_progress(total: int, output_format: str, quiet: bool = False, stream: TextIO | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    return (
        total > PROGRESS_THRESHOLD
        and output_format not in MACHINE_FORMATS
        and not quiet
        and os.environ.get("TERM") != "dumb"
        and _is_tty(stream)
    )


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """Yields the callback `runner.lint_paths(progress=...)` takes (files done since the last call), or None."""
    if not enabled:
        yield None
        return
    from rich.console import Console  # imported only when a bar is shown: cached runs start faster
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, force_terminal=True)
    columns = (TextColumn("Linting"), BarColumn(), MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("lint", total=total)
        yield lambda done: progress.advance(task, done)
