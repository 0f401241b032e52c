"""Per-folder configuration: each file is linted with the settings of the configuration file nearest to it.

As in ruff, a run over `app/` and `tools/` (or one started from any folder) lints `tools/gen/x.py` with
`tools/async-lint.toml` if there is one, whatever path came first; the command line's flags and `--config
KEY=VALUE` overrides apply on top of every file's configuration. A file with no configuration file above it gets
the run's own settings (those found from the first path), as ruff falls back to the configuration found from its
working folder: a project without any configuration file is linted exactly as one run with one root. Without
`--config FILE` or `--isolated` only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from async_lint.config import Overrides, Settings, settings_from
from async_lint.config_files import config_in


class SettingsTree:
    """Resolves, and remembers, the settings of each folder of a run."""

    def __init__(self, overrides: Overrides, base: Settings):
        self.overrides = overrides
        # The API's keywords that set fields after the configuration was read (api._adjust); None: none.
        self.adjust: Callable[[Settings], Settings] | None = None
        self._config_of: dict[str, str | None] = {}  # absolute folder -> its configuration file (None: none)
        self.base = _without_tree(base)
        self._settings: dict[str, Settings] = {}
        if base.config_file is not None:
            self._settings[base.config_file] = self.base

    def config_for_folder(self, folder: str) -> str | None:
        """The configuration file nearest to the absolute `folder` (at or above it)."""
        chain: list[str] = []
        current = folder
        found: str | None = None
        while True:
            if current in self._config_of:
                found = self._config_of[current]
                break
            chain.append(current)
            own = config_in(Path(current))
            if own is not None:
                found = str(own)
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for visited in chain:
            self._config_of[visited] = found
        return found

    def for_folder(self, folder: str) -> Settings:
        config = self.config_for_folder(folder)
        if config is None:
            settings = self.base
        else:
            settings = self._settings.get(config)
            if settings is None:
                settings = settings_from(Path(config), Path(config).parent, self.overrides)
                self._settings[config] = settings
        return self.adjust(settings) if self.adjust is not None else settings

    def for_path(self, path: str | Path) -> Settings:
        """The settings `path` (a file or a folder) is linted with."""
        absolute = _absolute(str(path))
        folder = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        return self.for_folder(folder)

    def group(self, paths: Iterable[str]) -> list[tuple[Settings, list[int]]]:
        """The positions of the files `paths` grouped by the settings they are linted with, in order of first
        use. Folders are resolved once each: a run over thousands of cached files does not pay per file."""
        groups: dict[Settings, list[int]] = {}
        of_folder: dict[str, Settings] = {}
        for position, path in enumerate(paths):
            folder = os.path.dirname(os.path.abspath(path))
            settings = of_folder.get(folder)
            if settings is None:
                settings = of_folder[folder] = self.for_folder(_absolute(folder))
            groups.setdefault(settings, []).append(position)
        return list(groups.items())


def _absolute(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _without_tree(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, tree=None) if settings.tree is not None else settings


def describe(settings: Settings, path: str | Path) -> str:
    """`--show-settings`: where the settings of `path` come from, then the settings as [tool.async-lint] keys."""
    import json

    def toml(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, tuple, frozenset, set)):
            items = sorted(value) if isinstance(value, (frozenset, set)) else value
            return "[" + ", ".join(toml(v) for v in items) + "]"
        return json.dumps(value) if isinstance(value, str) else repr(value)

    lines = [f"Resolved settings for: {_absolute(str(path))}",
             f"Settings path: {settings.config_file or 'none (defaults)'}"]
    lines += [f"Extends: {layer}" for layer in settings.layers if layer != settings.config_file]
    lines += ["", f"# project root: {settings.root}"]
    fields = {
        "select": settings.enabled,
        "test-select": settings.test_select if settings.test_select is not None else settings.enabled,
        "test-files": settings.test_files,
        "exclude": settings.exclude,
        "default-timeout": settings.default_timeout,
        "helper-depth": settings.helper_depth,
        "max-file-size": settings.max_file_size,
        "preview": settings.preview,
        "src": settings.src,
        "extend-closeable-types": settings.extend_closeable,
    }
    for key, value in fields.items():
        if value is not None:
            lines.append(f"{key} = {toml(value)}")
    if settings.per_file_ignores:
        lines.append("[per-file-ignores]")
        lines += [f"{json.dumps(pattern)} = {toml(codes)}" for pattern, codes in settings.per_file_ignores]
    if settings.extend_blocking:
        lines.append("[extend-blocking-calls]")
        for name, spec in settings.extend_blocking:
            lines.append(f"{json.dumps(name)} = {{ " + ", ".join(f"{k} = {toml(v)}" for k, v in spec) + " }")
    return "\n".join(lines) + "\n"
