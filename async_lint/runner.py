"""Linting many files: in this process for a handful, in a process pool otherwise; then the project pass.

Phase 1 lints every file (each worker builds its `Linter` once) and collects each module's index summary;
project_pass.py then parses what the index still needs and confirms or drops the deferred findings. Results keep
the order the paths were given in.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from async_lint.cache import ResultCache, salt_for
from async_lint.config import Settings
from async_lint.discovery import discover
from async_lint.finding import FileResult, error_result
from async_lint.index import ProjectIndex, module_name_for, package_root
from async_lint.project_pass import blocking_names, confirmed_of, project_pass
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
        plain = self.cache.get(path, "00", self.cache.key(data, "00", module))
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
            key = self.cache.key(data, mode, extra)
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
        (the pre-filter): cached by content, so a run on a few files does not scan the package again."""
        from async_lint.serving import CALLED

        return self._derived(paths, "calls",
                             lambda data: frozenset(CALLED.findall(data)) if passes(data) else frozenset())

    def _derived(self, paths: list[str], mode: str, compute: Callable[[bytes], frozenset[bytes]]
                 ) -> dict[str, frozenset[bytes]]:
        """A fact `compute` derives from each readable file's bytes, cached by content under `mode`."""
        def run(misses: list[str]) -> list[FileResult]:
            out = []
            for path in misses:
                try:
                    data = self.read(path)
                except OSError:
                    out.append(FileResult(path, internal_errors=1))  # unreadable: no fact, and not stored
                    continue
                out.append(FileResult(path, words=(compute(data), frozenset())))
            return out

        results = run(paths) if self.cache is None else self._cached(paths, lambda path: (path, mode, ""), run)
        return {r.path: r.words[0] for r in results if r.words is not None and not r.internal_errors}

    def _linter(self) -> "Linter":
        if self.local is None:
            self.local = _new_linter(self.settings, self.packages)
            self.local.overlay = self.overlay
        return self.local

    def read(self, path: str) -> bytes:
        """A file's bytes, from the overlay of unwritten fixes if it is there."""
        return self.overlay[path] if path in self.overlay else read_file(path)

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


def _modules(paths: Iterable[str], roots: tuple[str, ...] = ()) -> tuple[dict[str, str], dict[str, str]]:
    """(module name -> path, path -> module name)."""
    by_name: dict[str, str] = {}
    by_path: dict[str, str] = {}
    for path in paths:
        name, _ = module_name_for(Path(path), roots)
        by_name.setdefault(name, path)
        by_path[path] = name
    return by_name, by_path


def _package_files(paths: list[str], settings: Settings, walked: Iterable[str] = ()) -> list[str]:
    """The other files of the packages the linted files belong to: the index must know them too. Packages
    inside a folder that was walked to find `paths` hold nothing new and are not walked again."""
    covered = [os.path.abspath(folder) for folder in walked]
    roots = {root for p in paths if (root := package_root(p, settings.source_roots)) is not None}
    roots = {r for r in roots if not any(r == c or r.startswith(c.rstrip(os.sep) + os.sep) for c in covered)}
    if not roots:
        return []
    linted = {os.path.abspath(p) for p in paths}
    found = discover([Path(r) for r in sorted(roots)], Path(settings.root), settings.exclude)
    return [str(p) for p in found.files if os.path.abspath(p) not in linted]


def lint_paths(paths: list[str], settings: Settings, jobs: int | None = None,
               progress: Callable[[int], None] | None = None, overlay: dict[str, bytes] | None = None,
               use_cache: bool = False, walked: Iterable[str] = (),
               on_warning: Callable[[str], None] | None = None,
               cache_for: Callable[[str], ResultCache] | None = None) -> list[FileResult]:
    """Lint `paths` (in order). `overlay` holds contents that replace files on disk (fixes not yet written);
    with one, everything runs in this process and nothing is cached. `use_cache` reads and fills the result
    cache under the project root; `on_warning` hears about a cache that had to be ignored. `cache_for(salt)`
    supplies the cache to use instead, even with an overlay (the language server keeps one in memory).
    With per-folder configuration (`settings.tree`) the files of each configuration are linted together, with
    its settings, its project index and its cache."""
    if settings.tree is not None:
        groups = settings.tree.group(paths)
        if len(groups) != 1 or groups[0][0] != settings:
            out: list[FileResult | None] = [None] * len(paths)
            for group_settings, positions in groups:
                for position, result in zip(positions, lint_paths(
                        [paths[i] for i in positions], group_settings, jobs, progress, overlay, use_cache,
                        walked, on_warning, cache_for)):
                    out[position] = result
            return out  # type: ignore[return-value]
        settings = groups[0][0]
    catalog = settings.catalog()
    needs_index = catalog.needs_index(settings.enabled)
    extra = _package_files(paths, settings, walked) if needs_index else []
    modules, module_of_path = _modules([*paths, *extra], settings.source_roots)
    packages = frozenset(name.split(".", 1)[0] for name in modules)
    cache = cache_for(salt_for(settings, catalog.digest, packages)) if cache_for is not None else None
    if use_cache and not overlay and cache is None:
        cache = ResultCache(Path(settings.root), salt_for(settings, catalog.digest, packages), on_warning)
    workers = _Workers(settings, packages, 1 if overlay else (jobs or default_jobs()), cache, module_of_path)
    if overlay:
        workers.overlay = overlay
    try:
        with _fewer_collections():
            results = workers.map([(p, False, False) for p in paths], progress)
            if needs_index:
                project_pass(results, workers, modules, settings)
        if "AL003" in settings.enabled:  # unused noqa: once every finding of each file is known
            from async_lint.noqa import unused_noqa

            for result in results:
                unused_noqa(result, workers.read, settings)
    finally:
        workers.close()
        if cache is not None:
            cache.save()
    return results


def lint_single(linter: "Linter", path: str, data: bytes) -> FileResult:
    """One file, with the project pass over that file alone (the flake8 plugin's single-file mode): its own
    coroutines and helpers are known, other modules are not."""
    module, _ = module_name_for(Path(path), linter.settings.source_roots)
    linter.project_packages = linter.project_packages | {module.split(".", 1)[0]}
    linter.overlay = {path: data}
    try:
        result = linter.lint_bytes(path, data)
        if result.summary is not None and result.deferred:
            confirmed = confirmed_of(result, ProjectIndex([result.summary], linter.settings.helper_depth,
                                                          blocking_names(linter.settings), linter.settings.preview))
            if confirmed:
                result.findings.extend(linter.place_confirmed(path, confirmed).findings)
                result.findings.sort(key=lambda f: f.sort_key())
        result.deferred = []
        return result
    finally:
        linter.overlay = {}
