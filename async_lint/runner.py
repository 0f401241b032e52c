"""Linting many files: in this process for a handful, in a process pool otherwise.

Each worker builds its `Linter` (catalog, checks, triggers) once, then lints chunks of paths; results come back
in the order the paths were given, so output is stable whatever the scheduling.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterator

from async_lint.config import Settings
from async_lint.engine import FileResult, Linter, error_result

_worker_linter: Linter | None = None

# Below this many files a pool costs more to start than it saves.
PARALLEL_THRESHOLD = 16


def _init_worker(settings: Settings) -> None:
    global _worker_linter
    _worker_linter = Linter(settings)


def _lint_chunk(paths: list[str]) -> list[FileResult]:
    assert _worker_linter is not None
    return [_safe_lint(_worker_linter, path) for path in paths]


def _safe_lint(linter: Linter, path: str) -> FileResult:
    try:
        return linter.lint_path(path)
    except Exception as exc:  # a crash outside the checks (walker, positions): report, keep going
        result = error_result(path, "AL002", f"internal error: {type(exc).__name__}: {exc}")
        result.internal_errors = 1
        return result


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def lint_paths(
    paths: list[str], settings: Settings, jobs: int | None = None, progress: Callable[[int], None] | None = None
) -> Iterator[FileResult]:
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(paths) < PARALLEL_THRESHOLD:
        linter = Linter(settings)
        for path in paths:
            yield _safe_lint(linter, path)
            if progress:
                progress(1)
        return
    # Small chunks keep both cores busy to the end; big files are spread by interleaving.
    chunk_size = max(1, min(16, len(paths) // (jobs * 8) or 1))
    chunks = [paths[i : i + chunk_size] for i in range(0, len(paths), chunk_size)]
    finished = 0
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(settings,)) as pool:
            for chunk, results in zip(chunks, pool.map(_lint_chunk, chunks)):
                yield from results
                finished += len(chunk)
                if progress:
                    progress(len(chunk))
    except BrokenProcessPool:
        # A worker died (out of memory, a crash in the parser): finish what is left in this process.
        linter = Linter(settings)
        for path in paths[finished:]:
            yield _safe_lint(linter, path)
            if progress:
                progress(1)
