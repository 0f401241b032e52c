"""Linting many files: in this process for a handful, in a process pool otherwise; then the project pass.

Phase 1 lints every file (each worker builds its `Linter` once: async_lint/workers.py) and collects each module's
index summary; project_pass.py then parses what the index still needs and confirms or drops the deferred findings.
Results keep the order the paths were given in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from async_lint.cache import ResultCache, salt_for
from async_lint.config import Settings
from async_lint.discovery import discover
from async_lint.finding import FileResult
from async_lint.index import ProjectIndex, module_name_for, package_root
from async_lint.project_pass import blocking_names, confirmed_of, project_pass
from async_lint.workers import _fewer_collections, _Workers, default_jobs

if TYPE_CHECKING:
    from async_lint.engine import Linter


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
