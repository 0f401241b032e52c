"""`[tool.async-lint]` in pyproject.toml, merged with command-line flags into the settings of one run.

Mistakes in configuration are errors, not silence: an unknown key, a value of the wrong type or an unknown rule
code stops the run with exit code 2 and a message naming the key.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from async_lint.catalog import Catalog, load_catalog

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration mistake; the CLI prints it and exits 2."""


# key -> (expected type, description used in error messages)
KNOWN_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "select": (list, "a list of rule codes or prefixes"),
    "ignore": (list, "a list of rule codes or prefixes"),
    "extend-select": (list, "a list of rule codes or prefixes"),
    "exclude": (list, "a list of glob patterns"),
    "extend-exclude": (list, "a list of glob patterns"),
    "per-file-ignores": (dict, "a table of glob = [codes]"),
    "extend-blocking-calls": (dict, 'a table of "qualified.name" = { code = "AL10x", suggest = "..." }'),
    "default-timeout": ((int, float), "a number of seconds"),
    "helper-depth": (int, "a whole number"),
    "max-file-size": ((int, float), "a number of megabytes"),
    "preview": (bool, "true or false"),
    "test-files": (list, "a list of glob patterns"),
    "extend-test-files": (list, "a list of glob patterns"),
    "test-select": (list, "a list of rule codes or prefixes"),
    "extend-test-select": (list, "a list of rule codes or prefixes"),
    "src": (list, "a list of folders relative to the project root"),
    "extend-closeable-types": (list, "a list of qualified class names"),
}

# Test code, by pytest's conventions: its test modules and conftest.py, and whatever lives in a tests/ folder.
DEFAULT_TEST_FILES = ("test_*.py", "*_test.py", "conftest.py", "tests/", "test/")
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
        return self.enabled - self.test_select


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


def _resolved(start: Path) -> Path:
    try:
        return start.resolve()
    except (OSError, RuntimeError):  # a symlink loop (reported by the linter as AL001)
        return start.absolute()


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.async-lint] table, searching upward from `start`."""
    start = _resolved(start)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path}: not valid TOML: {exc}") from None
            if "async-lint" in data.get("tool", {}):
                return path
    return None


def find_root(start: Path) -> Path:
    """The project root: the nearest folder with pyproject.toml or .git, else `start` itself."""
    start = _resolved(start)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate
    return folder


def read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("async-lint", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.async-lint] must be a table")
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(f"{path}: unknown key `{key}` in [tool.async-lint] (known keys: {known})")
        expected, described = KNOWN_KEYS[key]
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"{path}: `{key}` must be {described}, not {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: `{key}` must be {described} (strings)")
    return table


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
    catalog = load_catalog()
    if config_file is None:
        config_file = find_config(paths[0] if paths else Path.cwd())
    table: dict[str, Any] = read_config(config_file) if config_file is not None else {}
    where = str(config_file) if config_file else "configuration"
    root = config_file.parent.resolve() if config_file is not None else find_root(paths[0] if paths else Path.cwd())

    defaults = {code for code, doc in catalog.rules.items() if doc.default}
    # Like ruff: a `--select` on the command line starts the selection afresh, dropping the file's select,
    # extend-select and ignore; otherwise the file's selection is the base the other flags adjust.
    if overrides.select is not None:
        enabled = expand_selectors(overrides.select, catalog, "--select")
    else:
        base = table.get("select")
        enabled = expand_selectors(base, catalog, where) if base is not None else set(defaults)
        enabled |= expand_selectors(table.get("extend-select", []), catalog, where)
        enabled -= expand_selectors(table.get("ignore", []), catalog, where)
    enabled |= expand_selectors(overrides.extend_select or [], catalog, "--extend-select")
    enabled -= expand_selectors(overrides.ignore or [], catalog, "--ignore")

    preview = overrides.preview if overrides.preview is not None else table.get("preview", False)
    notes: list[str] = []
    if not preview:
        # Like ruff: without preview, preview rules do not run, whatever selects them; naming one by its exact
        # code earns a warning, since that is surely not what was meant.
        previews = {code for code in enabled if catalog.rules[code].preview}
        named = _named_codes(overrides, table)
        for code in sorted(previews & named):
            notes.append(f"selection `{code}` has no effect because preview is not enabled (`--preview`, or "
                         "`preview = true` in [tool.async-lint])")
        enabled -= previews

    # Test files: a CLI `--test-select` starts afresh, like `--select`.
    if overrides.test_select is not None:
        test_select = expand_selectors(overrides.test_select, catalog, "--test-select")
    else:
        test_select = expand_selectors(table.get("test-select", DEFAULT_TEST_SELECT), catalog, where)
        test_select |= expand_selectors(table.get("extend-test-select", []), catalog, where)
    test_select |= expand_selectors(overrides.extend_test_select or [], catalog, "--extend-test-select")
    test_files = tuple(table.get("test-files", DEFAULT_TEST_FILES)) + tuple(table.get("extend-test-files", []))

    per_file = []
    for pattern, codes in table.get("per-file-ignores", {}).items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f'{where}: per-file-ignores."{pattern}" must be a list of rule codes')
        per_file.append((pattern, frozenset(expand_selectors(codes, catalog, where))))

    exclude = list(overrides.exclude if overrides.exclude is not None else table.get("exclude", []))
    exclude += table.get("extend-exclude", [])
    extend_blocking = _validate_blocking(table.get("extend-blocking-calls", {}), catalog, where)

    timeout = overrides.extra.get("default_timeout", table.get("default-timeout"))
    depth = table.get("helper-depth", 4)
    if depth < 0:
        raise ConfigError(f"{where}: `helper-depth` must be 0 or more")
    src = table.get("src", [".", "src"])
    if not all(isinstance(folder, str) for folder in src):
        raise ConfigError(f"{where}: `src` must be a list of folders relative to the project root")
    closeable = table.get("extend-closeable-types", [])
    if not all(isinstance(name, str) and name for name in closeable):
        raise ConfigError(f"{where}: `extend-closeable-types` must be a list of qualified class names")
    max_size = table.get("max-file-size", 1.0)
    if max_size <= 0:
        raise ConfigError(f"{where}: `max-file-size` must be a positive number of megabytes")
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
    )


def _named_codes(overrides: Overrides, table: dict[str, Any]) -> set[str]:
    """Rule codes named exactly (not by a prefix) in the selections that count for this run."""
    lists = [overrides.select] if overrides.select is not None else [table.get("select"), table.get("extend-select")]
    lists.append(overrides.extend_select)
    return {raw.strip().upper() for values in lists if values for raw in values}
