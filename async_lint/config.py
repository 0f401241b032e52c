"""`[tool.async-lint]` in pyproject.toml, merged with command-line flags into the settings of one run.

Mistakes in configuration are errors, not silence: an unknown key, a value of the wrong type or an unknown rule
code stops the run with exit code 2 and a message naming the key.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from async_lint.catalog import Catalog, load_catalog

from async_lint.config_files import (KNOWN_KEYS, ConfigError, Layers, find_config, find_root,  # noqa: F401
                                     read_layers, read_table)

# Test code, by pytest's conventions: its test modules and conftest.py, and whatever lives in a tests/ folder.
# `testing/`: the test-support package a library ships (pytest plugins, simulated clients, fixtures).
DEFAULT_TEST_FILES = ("test_*.py", "*_test.py", "conftest.py", "tests/", "test/", "testing/")
# What runs in test code by default: a coroutine a test never awaits asserts nothing (AL2xx), and the AL7xx rules
# are about tests. Blocking calls, timeouts, lifecycle and cancellation in tests are opt-in (extend-test-select).
DEFAULT_TEST_SELECT = ("AL2", "AL7")

DEFAULT_EXCLUDES = (".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build", "dist", "__pycache__",
                    "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".async_lint_cache",
                    ".eggs", "*.egg-info", "site-packages")


@dataclass(frozen=True)
class Settings:
    """The effective configuration of a run: plain data, so worker processes can receive it."""

    root: str
    enabled: frozenset[str]
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    extend_blocking: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    default_timeout: float | None = None
    helper_depth: int = 4
    max_file_size: float = 1.0  # MB; larger files are skipped with a warning
    config_file: str | None = None
    preview: bool = False  # preview rules (catalog `preview = true`) and preview behaviours run
    test_files: tuple[str, ...] = DEFAULT_TEST_FILES
    # The codes that may run in test files (intersected with `enabled`); None: every enabled rule runs there.
    test_select: frozenset[str] | None = None
    # Source roots (relative to `root`) that module names are computed from, as in ruff's `src`.
    src: tuple[str, ...] = (".", "src")
    # `extend-closeable-types`: qualified class names AL401 reports when an instance is never closed.
    extend_closeable: tuple[str, ...] = ()
    # Warnings about the configuration for the command line to print (a preview rule selected without preview).
    notes: tuple[str, ...] = field(default=(), compare=False)
    # The configuration files (and `--config` overrides) these settings were made of, the most inherited first.
    layers: tuple[str, ...] = field(default=(), compare=False)
    # A run without `--config FILE` or `--isolated`: each file's settings come from its nearest configuration
    # file (hierarchy.SettingsTree.for_path). None in the settings of one folder's files.
    tree: Any = field(default=None, compare=False, repr=False)

    def catalog(self) -> Catalog:
        return load_catalog({name: dict(spec) for name, spec in self.extend_blocking}, preview=self.preview)

    def cache_key(self) -> str:
        test_select = sorted(self.test_select) if self.test_select is not None else None
        return repr((sorted(self.enabled), self.per_file_ignores, self.extend_blocking, self.default_timeout,
                     self.helper_depth, self.max_file_size, self.preview, self.test_files, test_select, self.src,
                     self.extend_closeable))

    @property
    def source_roots(self) -> tuple[str, ...]:
        """The absolute project root, then the absolute source roots (see `index.module_name_for`)."""
        root = os.path.abspath(self.root)
        return (root, *(os.path.normpath(os.path.join(root, folder)) for folder in self.src))

    def is_test_file(self, path: str) -> bool:
        """Is `path` test code (a `test-files` pattern matches it)? The one definition every rule uses."""
        return is_test_path(path, self.root, self.test_files)

    def codes_not_run_in(self, path: str) -> frozenset[str]:
        """Enabled codes that do not run in this file: all but `test-select` in a test file, else none."""
        if self.test_select is None or not self.is_test_file(path):
            return frozenset()
        return frozenset(code for code in self.enabled - self.test_select if not code.startswith("AL0"))

    def ignored_in(self, path: str) -> frozenset[str]:
        """Enabled codes not reported in this file: its per-file-ignores, and in test files those outside
        `test-select`."""
        not_run = self.codes_not_run_in(path)
        if not self.per_file_ignores:
            return not_run
        rel = relative_path(path, self.root)
        codes: set[str] = set(not_run)
        name = rel.rsplit("/", 1)[-1]
        for pattern, ignored in self.per_file_ignores:
            if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern):
                codes |= ignored
        return frozenset(codes)


def relative_path(path: str, root: str | None) -> str:
    """`path` relative to the project root with forward slashes (itself when it is not below the root)."""
    if root is not None:
        try:
            return Path(path).resolve().relative_to(root).as_posix()
        except (ValueError, OSError):
            pass
    return Path(path).as_posix()


def matches_test_pattern(rel: str, pattern: str) -> bool:
    """`test-files` patterns: one without `/` matches the file name (`test_*.py`); one ending in `/` matches a
    folder at any depth and everything below it (`tests/`), or below the root when it has another `/`
    (`src/testing/`); any other is matched against the path from the project root (`*` crosses `/`)."""
    if pattern.endswith("/"):
        folder = pattern.rstrip("/")
        if "/" in folder:
            return fnmatch.fnmatchcase(rel, folder + "/*")
        return any(fnmatch.fnmatchcase(part, folder) for part in rel.split("/")[:-1])
    if "/" not in pattern:
        return fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(rel, pattern)


@lru_cache(maxsize=4096)
def is_test_path(path: str, root: str | None, patterns: tuple[str, ...] = DEFAULT_TEST_FILES) -> bool:
    rel = relative_path(path, root)
    return any(matches_test_pattern(rel, pattern) for pattern in patterns)


@dataclass
class Overrides:
    """What the command line says; None means "not given"."""

    select: list[str] | None = None
    ignore: list[str] | None = None
    extend_select: list[str] | None = None
    exclude: list[str] | None = None
    preview: bool | None = None
    test_select: list[str] | None = None
    extend_test_select: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # `--config KEY=VALUE` overrides (checked tables), applied over every configuration file, before the flags.
    config_values: list[dict[str, Any]] = field(default_factory=list)
    isolated: bool = False  # `--isolated`: read no configuration file


def expand_selectors(selectors: Iterable[str], catalog: Catalog, where: str) -> set[str]:
    """Codes named by selectors: a code (`AL101`), a prefix (`AL1`), or `ALL`."""
    codes: set[str] = set()
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        if selector in ("ALL", "AL"):
            codes.update(catalog.rules)
            continue
        matched = {code for code in catalog.rules if code.startswith(selector)}
        if not matched:
            raise ConfigError(f"{where}: unknown rule code or prefix `{raw}` (see `async-lint rules`)")
        codes.update(matched)
    return codes


# The codes of the [[blocking]] table (checks/blocking.py), which `extend-blocking-calls` entries may use.
BLOCKING_CODES = frozenset({"AL101", "AL102", "AL103", "AL104", "AL105", "AL106", "AL110"})


def _validate_blocking(table: dict[str, Any], catalog: Catalog, where: str) -> tuple:
    out = []
    for name, spec in table.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("code"), str):
            raise ConfigError(f'{where}: extend-blocking-calls."{name}" must be a table with `code` and `suggest`')
        unknown = set(spec) - {"code", "suggest", "why"}
        if unknown:
            raise ConfigError(f'{where}: extend-blocking-calls."{name}": unknown key `{sorted(unknown)[0]}`')
        if spec["code"] not in BLOCKING_CODES:
            raise ConfigError(
                f'{where}: extend-blocking-calls."{name}": code must be one of AL101-AL106 or AL110, '
                f'not `{spec["code"]}`'
            )
        suggest = spec.get("suggest", "an async alternative or `await asyncio.to_thread(...)`")
        out.append((name, tuple(sorted({**spec, "suggest": suggest}.items()))))
    return tuple(sorted(out))


def build_settings(paths: list[Path], config_file: Path | None, overrides: Overrides) -> Settings:
    """The settings of a run over `paths`: those of `config_file` if given, else of the configuration file that
    applies to the first path (or none with `overrides.isolated`). Without `config_file` each file then uses
    the configuration file nearest to it (`Settings.tree`), as ruff does."""
    start = paths[0] if paths else Path.cwd()
    explicit = config_file is not None
    if config_file is None and not overrides.isolated:
        config_file = find_config(start)
    root = config_file.parent.resolve() if config_file is not None else find_root(start)
    settings = settings_from(config_file, root, overrides)
    if explicit or overrides.isolated:
        return settings
    from async_lint.hierarchy import SettingsTree

    return replace(settings, tree=SettingsTree(overrides, settings))


def settings_from(config_file: Path | None, root: Path, overrides: Overrides) -> Settings:
    """The settings of the files `config_file` (None: no file) applies to, with the command line's overrides."""
    catalog = load_catalog()
    layers = Layers([*(read_layers(config_file) if config_file is not None else []),
                     *((f"--config {_inline_text(t)}", t) for t in overrides.config_values)])
    table = layers.table
    where = str(config_file) if config_file else "configuration"

    def at(key: str) -> str:
        return layers.named(key, where)

    for file, part in layers.layers:
        if part.get("select") == []:
            raise ConfigError(f"{file}: `select` is empty, so no rule would run (list rule codes or prefixes, "
                              "or remove `select` for the default rules)")
    defaults = {code for code, doc in catalog.rules.items() if doc.default}
    # Like ruff, the selections apply layer by layer (an extended file, the file, `--config` overrides, then the
    # flags): a `select` starts afresh, dropping what came before; `extend-select` and `ignore` adjust it.
    enabled = set(defaults)
    test_select = expand_selectors(DEFAULT_TEST_SELECT, catalog, where)
    for file, part in layers.layers:
        if "select" in part:
            enabled = expand_selectors(part["select"], catalog, file)
        enabled |= expand_selectors(part.get("extend-select", []), catalog, file)
        enabled -= expand_selectors(part.get("ignore", []), catalog, file)
        if "test-select" in part:
            test_select = expand_selectors(part["test-select"], catalog, file)
        test_select |= expand_selectors(part.get("extend-test-select", []), catalog, file)
    if overrides.select is not None:
        enabled = expand_selectors(overrides.select, catalog, "--select")
    enabled |= expand_selectors(overrides.extend_select or [], catalog, "--extend-select")
    enabled -= expand_selectors(overrides.ignore or [], catalog, "--ignore")
    # Test files: a CLI `--test-select` starts afresh, like `--select`.
    if overrides.test_select is not None:
        test_select = expand_selectors(overrides.test_select, catalog, "--test-select")
    test_select |= expand_selectors(overrides.extend_test_select or [], catalog, "--extend-test-select")

    preview = overrides.preview if overrides.preview is not None else table.get("preview", False)
    notes: list[str] = []
    if not preview:
        # Like ruff: without preview, preview rules do not run, whatever selects them; naming one by its exact
        # code earns a warning, since that is surely not what was meant.
        previews = {code for code in enabled if catalog.rules[code].preview}
        named = _named_codes(overrides, layers)
        for code in sorted(previews & named):
            notes.append(f"selection `{code}` has no effect because preview is not enabled (`--preview`, or "
                         "`preview = true` in [tool.async-lint])")
        enabled -= previews
    test_files = tuple(table.get("test-files", DEFAULT_TEST_FILES)) + tuple(table.get("extend-test-files", []))

    per_file = []
    for pattern, codes in table.get("per-file-ignores", {}).items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f'{at("per-file-ignores")}: per-file-ignores."{pattern}" must be a list of rule codes')
        per_file.append((pattern, frozenset(expand_selectors(codes, catalog, at("per-file-ignores")))))

    exclude = list(overrides.exclude if overrides.exclude is not None else table.get("exclude", []))
    exclude += table.get("extend-exclude", [])
    extend_blocking = _validate_blocking(table.get("extend-blocking-calls", {}), catalog,
                                         at("extend-blocking-calls"))

    timeout = overrides.extra.get("default_timeout", table.get("default-timeout"))
    if timeout is not None and timeout <= 0:
        source = "--default-timeout" if "default_timeout" in overrides.extra else at("default-timeout")
        raise ConfigError(f"{source}: `default-timeout` must be a positive number of seconds, not {timeout:g}")
    depth = table.get("helper-depth", 4)
    if depth < 0:
        raise ConfigError(f"{at('helper-depth')}: `helper-depth` must be 0 or more")
    src = table.get("src", [".", "src"])
    closeable = table.get("extend-closeable-types", [])
    if not all(closeable):
        raise ConfigError(f"{at('extend-closeable-types')}: `extend-closeable-types` must be a list of qualified "
                          "class names")
    max_size = table.get("max-file-size", 1.0)
    if max_size <= 0:
        raise ConfigError(f"{at('max-file-size')}: `max-file-size` must be a positive number of megabytes")
    return Settings(
        root=str(root),
        enabled=frozenset(enabled),
        exclude=tuple(exclude),
        per_file_ignores=tuple(per_file),
        extend_blocking=extend_blocking,
        default_timeout=float(timeout) if timeout is not None else None,
        helper_depth=depth,
        max_file_size=float(max_size),
        config_file=str(config_file) if config_file else None,
        preview=bool(preview),
        test_files=test_files,
        test_select=frozenset(test_select),
        notes=tuple(notes),
        src=tuple(src),
        extend_closeable=tuple(closeable),
        layers=tuple(file for file, _ in layers.layers),
    )


def _inline_text(table: dict[str, Any]) -> str:
    return ", ".join(f"{key} = {value!r}" for key, value in table.items())


def _named_codes(overrides: Overrides, layers: Layers) -> set[str]:
    """Rule codes named exactly (not by a prefix) in the selections that count for this run."""
    lists: list[Any] = [overrides.select, overrides.extend_select]
    if overrides.select is None:
        for _, part in layers.layers:
            if "select" in part:
                lists = [overrides.extend_select]
            lists += [part.get("select"), part.get("extend-select")]
    return {raw.strip().upper() for values in lists if values for raw in values}
