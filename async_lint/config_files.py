"""Configuration files: which one applies to a folder, reading one (with `extend`), and `--config KEY=VALUE`.

Like ruff: a folder's configuration is `.async-lint.toml`, else `async-lint.toml`, else a pyproject.toml with a
[tool.async-lint] table, in that folder or the nearest folder above it. The standalone files hold the
[tool.async-lint] keys at their top level. `extend = "../shared.toml"` (relative to the file) inherits another
configuration file: the keys set here replace the inherited ones, the `extend-*` lists add to them, and the rule
selections apply in order (an inherited `select`, then this file's `extend-select` / `ignore`, or this file's
own `select` starting afresh), as ruff's `extend` does.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration mistake; the CLI prints it and exits 2."""


# In order of precedence within one folder, as ruff's `.ruff.toml`, `ruff.toml`, `pyproject.toml`.
CONFIG_NAMES = (".async-lint.toml", "async-lint.toml", "pyproject.toml")

# key -> (expected type, description used in error messages)
KNOWN_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "extend": (str, "the path of a configuration file to inherit, relative to this one"),
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

# Lists an extending file adds to the inherited ones (ruff chains its `extend-*` lists the same way).
ADDED_LISTS = ("extend-exclude", "extend-test-files", "extend-closeable-types")
# Selections applied layer by layer (see `Layers.selection`), not merged.
SELECTION_KEYS = ("select", "extend-select", "ignore", "test-select", "extend-test-select")


def _parse(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _table_name(path: Path) -> str:
    return "[tool.async-lint]" if path.name == "pyproject.toml" else "the file"


@lru_cache(maxsize=1024)
def _has_table(path: str, mtime: float) -> bool:
    data = _parse(Path(path))
    return "async-lint" in data.get("tool", {})


def config_in(folder: Path) -> Path | None:
    """The configuration file of `folder` itself (not of the folders above it), if it has one."""
    for name in CONFIG_NAMES:
        path = folder / name
        try:
            st = path.stat()
        except OSError:
            continue
        if not path.is_file():
            continue
        if name != "pyproject.toml" or _has_table(str(path), st.st_mtime):
            return path
    return None


def _resolved(start: Path) -> Path:
    try:
        return start.resolve()
    except (OSError, RuntimeError):  # a symlink loop (reported by the linter as AL001)
        return start.absolute()


def find_config(start: Path) -> Path | None:
    """The configuration file that applies to `start` (a file or folder): the nearest one at or above it."""
    start = _resolved(start)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        found = config_in(candidate)
        if found is not None:
            return found
    return None


def find_root(start: Path) -> Path:
    """The project root: the nearest folder with a configuration file, a pyproject.toml or .git; else the current
    folder when `start` is inside it (as ruff: `check app/db.py` and `check .` then see one project, with the
    same module names and cache), else `start`'s folder."""
    start = _resolved(start)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / name).is_file() for name in CONFIG_NAMES) or (candidate / ".git").exists():
            return candidate
    cwd = _resolved(Path.cwd())
    if folder == cwd or cwd in folder.parents:
        return cwd
    return folder


def check_table(table: Any, where: str, section: str = "[tool.async-lint]") -> dict[str, Any]:
    """`table` if every key is known and every value has the right type, else a ConfigError naming the key."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {section} must be a table")
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(f"{where}: unknown key `{key}` in {section} (known keys: {known})")
        expected, described = KNOWN_KEYS[key]
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"{where}: `{key}` must be {described}, not {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: `{key}` must be {described} (strings)")
    return table


def read_table(path: Path) -> dict[str, Any]:
    """The async-lint keys of one file, checked, without following `extend`."""
    data = _parse(path)
    table = data.get("tool", {}).get("async-lint", {}) if path.name == "pyproject.toml" else data
    return check_table(table, str(path))


def read_layers(path: Path, _chain: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """(file, table) of `path` and of the files it extends, the most inherited first."""
    key = os.path.normcase(str(_resolved(path)))
    if key in _chain:
        raise ConfigError(f"{path}: `extend` makes a cycle ({' -> '.join([*_chain, key])})")
    table = read_table(path)
    layers: list[tuple[str, dict[str, Any]]] = []
    if "extend" in table:
        base = Path(os.path.expanduser(os.path.expandvars(table["extend"])))
        if not base.is_absolute():
            base = path.parent / base
        base = Path(os.path.normpath(base))
        if not base.is_file():
            raise ConfigError(f"{path}: `extend` names {table['extend']!r}, which is not a file ({base})")
        layers = read_layers(base, (*_chain, key))
    return [*layers, (str(path), table)]


def parse_inline(value: str) -> dict[str, Any]:
    """One `--config KEY=VALUE` (TOML, such as a line of async-lint.toml), checked."""
    try:
        table = tomllib.loads(value)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {value!r}: neither a configuration file nor a TOML `KEY = VALUE` pair "
                          f"({exc})") from None
    if "extend" in table:
        raise ConfigError(f"--config {value!r}: `extend` can only be set in a configuration file")
    return check_table(table, f"--config {value!r}", "a --config override")


def split_config_args(values: list[str]) -> tuple[Path | None, list[dict[str, Any]]]:
    """`--config` values: at most one configuration file, and `KEY = VALUE` overrides (ruff's rule: a value
    naming an existing file is a file; a value ending in `.toml` without `=` is a file that is missing)."""
    config_file: Path | None = None
    inline: list[dict[str, Any]] = []
    for value in values:
        path = Path(os.path.expanduser(value))
        if path.is_file() or "=" not in value:
            if not path.is_file():
                raise ConfigError(f"config file does not exist: {value}")
            if config_file is not None:
                raise ConfigError(f"only one configuration file can be given with --config (got {config_file} "
                                  f"and {value})")
            config_file = path
        else:
            inline.append(parse_inline(value))
    return config_file, inline


class Layers:
    """The tables that make up one configuration, the most inherited first (files, then --config overrides)."""

    def __init__(self, layers: list[tuple[str, dict[str, Any]]]):
        self.layers = layers
        self.table: dict[str, Any] = {}  # every key but the selections, merged (later layers win)
        self.where: dict[str, str] = {}  # key -> the file (or --config) that set it last
        for where, table in layers:
            for key, value in table.items():
                if key in ADDED_LISTS:
                    self.table[key] = [*self.table.get(key, []), *value]
                elif key == "extend-blocking-calls":
                    self.table[key] = {**self.table.get(key, {}), **value}
                else:
                    self.table[key] = value
                self.where[key] = where

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def named(self, key: str, fallback: str) -> str:
        """The file (or `--config ...`) that set `key`, for error messages."""
        return self.where.get(key, fallback)
