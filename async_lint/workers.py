"""The workers of a run: lint tasks in this process for a handful, in a process pool otherwise, each answered
from the result cache when the file is unchanged (async_lint/cache.py); the runner and the project pass hand
them their tasks."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable

from async_lint.cache import ResultCache
from async_lint.config import Settings
from async_lint.finding import FileResult, error_result
from async_lint.source import read_file

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from async_lint.engine import Linter

# The engine (and libcst with it) is imported only when a file must be linted: a run answered from the cache
# starts in a fraction of the time.

# Below this many files a pool costs more to start than it saves.
PARALLEL_THRESHOLD = 16

_worker_linter: "Linter | None" = None

Task = tuple[str, bool, bool]  # (path, force, summary_only)
_KEPT_BYTES = 64 * 1024 * 1024  # file contents one run keeps to read again (_Workers.read)
# What a summary-only task takes from the cached plain lint of the file (_Workers._as_forced).
_SUMMARY_FIELDS = frozenset({"parsed", "internal_errors", "summary"})


def _new_linter(settings: Settings, packages: frozenset[str] = frozenset()) -> "Linter":
    from async_lint.engine import Linter

    return Linter(settings, packages)


# A parse tree is hundreds of thousands of objects that all live until the file is done: with the default
# threshold (700) the collector scans the young ones thousands of times per file and frees nothing. Measured on
# open-webui: 9% of a cold run's CPU. Memory is unchanged (nothing here is cyclic garbage that waits long).
_GC_THRESHOLD = (10_000, 20, 20)


@contextmanager
def _fewer_collections():
    saved = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


# The linter of the process that starts the pool. A forked worker finds it (and libcst, imported with it) in the
# memory it inherited: it neither imports the engine again nor rebuilds the checks. Fork hands the initializer's
# arguments over as the same objects, so `settings is` tells them apart; a spawned or forkserver worker (the
# Linux default from Python 3.14) gets copies and builds its own, as before.
_parent_linter: "Linter | None" = None


def _init_worker(settings: Settings, packages: frozenset[str]) -> None:
    global _worker_linter
    gc.set_threshold(*_GC_THRESHOLD)
    inherited = _parent_linter
    if inherited is not None and inherited.settings is settings and inherited.project_packages == packages:
        _worker_linter = inherited
    else:
        _worker_linter = _new_linter(settings, packages)


# Test hook (tests/test_robustness.py): a worker linting a path containing this text dies at once, as a
# worker killed by the OOM killer or a crash in native code would.
_CRASH_MARK = os.environ.get("ASYNC_LINT_TEST_KILL_WORKER_ON")


def _lint_chunk(tasks: list[Task]) -> list[FileResult]:
    assert _worker_linter is not None
    if _CRASH_MARK and any(_CRASH_MARK in task[0] for task in tasks):
        os._exit(70)
    return [_safe_lint(_worker_linter, task) for task in tasks]


def _place_chunk(items: list[tuple[str, list]]) -> list[FileResult]:
    assert _worker_linter is not None
    return [_safe_place(_worker_linter, path, confirmed) for path, confirmed in items]


def _safe_place(linter: "Linter", path: str, confirmed: list) -> FileResult:
    try:
        return linter.place_confirmed(path, confirmed)
    except Exception as exc:  # report, keep going
        result = error_result(path, "AL002", f"internal error placing findings: {type(exc).__name__}: {exc}")
        result.internal_errors = 1
        return result


def _safe_lint(linter: "Linter", task: Task) -> FileResult:
    path, force, summary_only = task
    try:
        return linter.lint_path(path, force=force, summary_only=summary_only)
    except Exception as exc:  # a crash outside the checks (walker, positions): report, keep going
        result = error_result(path, "AL002", f"internal error: {type(exc).__name__}: {exc}")
        result.internal_errors = 1
        return result


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Workers:
    """Runs tasks in this process or in one pool started on first need and reused by every phase."""

    def __init__(self, settings: Settings, packages: frozenset[str], jobs: int, cache: ResultCache | None = None,
                 module_of_path: dict[str, str] | None = None):
        self.settings = settings
        self.packages = packages
        self.jobs = jobs
        self.local: "Linter | None" = None
        self.pool: "Executor | None" = None
        self.cache = cache
        self.module_of_path = module_of_path or {}
        self.overlay: dict[str, bytes] = {}
        # Each phase of the project pass reads the package's files again (cache keys, word searches, the
        # AL107 call-site scan): four reads and hashes of each file in a pre-commit run. One run reads each
        # file once (a file edited during the run is linted as this run first read it, or seen by the next).
        self._bytes: dict[str, bytes] = {}
        self._kept = 0
        self._keys: dict[tuple[str, str, str], str] = {}

    def map(self, tasks: list[Task], progress: Callable[[int], None] | None = None) -> list[FileResult]:
        """Results of `tasks` in order: from the cache when the file is unchanged, else linted."""
        if self.cache is None:
            return self._run(tasks, progress)

        def describe(task: Task) -> tuple[str, str, str]:
            path, force, summary_only = task
            return path, f"{int(force)}{int(summary_only)}", self.module_of_path.get(path, "")

        return self._cached(tasks, describe, lambda misses: self._run(misses, progress), progress, self._as_forced)

    def _as_forced(self, task: Task, data: bytes, module: str) -> FileResult | None:
        """A forced lint (the project pass asking a file of the package for its summary or its deferred
        findings) answered by the cached plain lint of the same bytes when that one parsed the file: forcing
        changes nothing then, and a summary-only lint is the plain one without its findings. After a whole-project
        run, a run on a few files thus re-lints none of the others."""
        path, force, summary_only = task
        assert self.cache is not None
        if not force:
            return None
        key = self._key(path, data, "00", module)
        plain = self.cache.get(path, "00", key, _SUMMARY_FIELDS if summary_only else None)
        if plain is None or not plain.parsed or plain.internal_errors:
            return None
        return FileResult(path, parsed=True, summary=plain.summary) if summary_only else plain

    def _cached(self, items: list, describe: Callable[[Any], tuple[str, str, str]],
                run: Callable[[list], list[FileResult]], progress: Callable[[int], None] | None = None,
                fallback: Callable[[Any, bytes, str], FileResult | None] | None = None) -> list[FileResult]:
        """Answer each item from the cache (keyed by the file's bytes and what `describe` says: path, mode,
        extra key), else from what `fallback` derives from another entry, and `run` the misses together, storing
        their results."""
        assert self.cache is not None
        out: list[FileResult | None] = []
        misses: list[tuple[int, Any, str, str]] = []
        for item in items:
            path, mode, extra = describe(item)
            try:
                data = self.read(path)
            except OSError:
                misses.append((len(out), item, mode, ""))  # reported by the linter; nothing to key on
                out.append(None)
                continue
            key = self._key(path, data, mode, extra)
            hit = self.cache.get(path, mode, key)
            if hit is None and fallback is not None:
                hit = fallback(item, data, extra)
            if hit is None:
                misses.append((len(out), item, mode, key))
            else:
                hit.path = path
                for finding in hit.findings:
                    finding.path = path
                if progress:
                    progress(1)
            out.append(hit)
        for (position, item, mode, key), result in zip(misses, run([item for _, item, _, _ in misses])):
            out[position] = result
            if key:
                self.cache.put(describe(item)[0], mode, key, result)
        return out  # type: ignore[return-value]

    def called_names(self, paths: list[str], passes: Callable[[bytes], bool]) -> dict[str, frozenset[bytes]]:
        """The names each readable file calls (serving.CALLED), empty for a file whose bytes `passes` rejects
        (the pre-filter): cached by content (mode `calls`), so a run on a few files does not scan the package
        again."""
        from async_lint.serving import CALLED

        def scan(misses: list[str]) -> list[FileResult]:
            out = []
            for path in misses:
                try:
                    data = self.read(path)
                except OSError:
                    out.append(FileResult(path, internal_errors=1))  # unreadable: no names, and not stored
                    continue
                called = frozenset(CALLED.findall(data)) if passes(data) else frozenset()
                out.append(FileResult(path, words=(called, frozenset())))
            return out

        results = scan(paths) if self.cache is None else self._cached(paths, lambda path: (path, "calls", ""), scan)
        return {r.path: r.words[0] for r in results if r.words is not None and not r.internal_errors}

    def _linter(self) -> "Linter":
        if self.local is None:
            self.local = _new_linter(self.settings, self.packages)
            self.local.overlay = self.overlay
        return self.local

    def read(self, path: str) -> bytes:
        """A file's bytes, from the overlay of unwritten fixes if it is there."""
        if path in self.overlay:
            return self.overlay[path]
        data = self._bytes.get(path)
        if data is None:
            data = read_file(path)
            if self._kept < _KEPT_BYTES:
                self._bytes[path] = data
                self._kept += len(data)
        return data

    def _key(self, path: str, data: bytes, mode: str, extra: str) -> str:
        assert self.cache is not None
        if path in self.overlay or path not in self._bytes:  # remembered only with the bytes it was made of
            return self.cache.key(data, mode, extra)
        memo = (path, mode, extra)
        key = self._keys.get(memo)
        if key is None:
            key = self._keys[memo] = self.cache.key(data, mode, extra)
        return key

    def _run(self, tasks: list[Task], progress: Callable[[int], None] | None = None) -> list[FileResult]:
        if self.jobs <= 1 or len(tasks) < PARALLEL_THRESHOLD:
            out = []
            for task in tasks:
                out.append(_safe_lint(self._linter(), task))
                if progress:
                    progress(1)
            return out
        from concurrent.futures.process import BrokenProcessPool

        self._start_pool()
        # Small chunks keep every core busy to the end.
        size = max(1, min(16, len(tasks) // (self.jobs * 8) or 1))
        chunks = [tasks[i: i + size] for i in range(0, len(tasks), size)]
        out: list[FileResult] = []
        try:
            for chunk, results in zip(chunks, self.pool.map(_lint_chunk, chunks)):
                out.extend(results)
                if progress:
                    progress(len(chunk))
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in the parser): finish in this process.
            self.pool = None
            for task in tasks[len(out):]:
                out.append(_safe_lint(self._linter(), task))
                if progress:
                    progress(1)
        return out

    def place(self, items: list[tuple[str, list]]) -> list[FileResult]:
        """Place confirmed deferred findings (each file parsed again), from the cache when the file and the
        confirmed findings are unchanged, in the pool when there are many."""
        if self.cache is None:
            return self._place(items)

        def describe(item: tuple[str, list]) -> tuple[str, str, str]:
            path, confirmed = item
            return path, "place", repr([(d.locator, d.code, d.fix, message) for d, message in confirmed])

        return self._cached(items, describe, self._place)

    def _place(self, items: list[tuple[str, list]]) -> list[FileResult]:
        if self.jobs <= 1 or len(items) < PARALLEL_THRESHOLD // 4:
            return [_safe_place(self._linter(), path, confirmed) for path, confirmed in items]
        from concurrent.futures.process import BrokenProcessPool

        self._start_pool()
        chunks = [items[i: i + 2] for i in range(0, len(items), 2)]
        out: list[FileResult] = []
        try:
            for results in self.pool.map(_place_chunk, chunks):
                out.extend(results)
        except BrokenProcessPool:
            self.pool = None
            out.extend(_safe_place(self._linter(), path, confirmed) for path, confirmed in items[len(out):])
        return out

    def _start_pool(self) -> None:
        if self.pool is None:
            from concurrent.futures import ProcessPoolExecutor

            global _parent_linter
            _parent_linter = self._linter()  # this process lints too (small batches): built once, shared

            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_init_worker,
                                            initargs=(self.settings, self.packages))

    def close(self) -> None:
        global _parent_linter
        if self.pool is not None:
            self.pool.shutdown()
        if _parent_linter is self.local:  # a long-lived process (the language server) keeps no stale one
            _parent_linter = None
