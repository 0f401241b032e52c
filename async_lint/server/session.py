"""What the language server knows apart from the protocol: the client's settings, and linting or fixing one
buffer as the file it is, with its package context (other modules from the open buffers, then from disk).

Settings come from `initializationOptions` and the `async-lint` section of the workspace configuration:

    {"config": "path/to/pyproject.toml", "select": ["AL1"], "ignore": ["AL105"], "extendSelect": ["AL3"],
     "preview": true}

Keys may be spelled camelCase, snake_case or with dashes. A relative `config` is read from the workspace root.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from async_lint.config import Settings
from async_lint.finding import FileResult

SECTION = "async-lint"
_KEYS = {"config": "config", "configpath": "config", "configfile": "config", "select": "select",
         "extendselect": "extend_select", "ignore": "ignore", "preview": "preview"}


def read_options(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """(options for `settings_for`, problems to tell the user) from what the client sent."""
    if not isinstance(raw, dict):
        return {}, [] if raw is None else [f"{SECTION} settings must be an object, not {type(raw).__name__}"]
    for wrapper in (SECTION, "asyncLint", "settings"):
        if isinstance(raw.get(wrapper), dict):
            raw = raw[wrapper]
            break
    options: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        name = _KEYS.get(key.replace("-", "").replace("_", "").lower())
        if name is None:
            problems.append(f"unknown {SECTION} setting `{key}` (known: config, select, extendSelect, ignore, "
                            "preview)")
        elif value is None:
            continue
        elif name == "preview" and not isinstance(value, bool):
            problems.append(f"{SECTION} setting `{key}` must be true or false")
        elif name == "config" and not isinstance(value, str):
            problems.append(f"{SECTION} setting `{key}` must be a path")
        elif name not in ("preview", "config") and not (
                isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(f"{SECTION} setting `{key}` must be a list of rule codes or prefixes")
        else:
            options[name] = value
    return options, problems


class Session:
    def __init__(self) -> None:
        self.root: str | None = None
        self.options: dict[str, Any] = {}
        self.caches: dict[str, Any] = {}  # project root -> its result cache, read once, then kept in memory

    def cache_for(self, settings: Settings):
        """For `lint_paths`: the project's result cache (`.async_lint_cache/`, as `async-lint check` left it),
        read once and then kept in memory with every result the server adds. The server never writes it."""
        from async_lint.cache import ResultCache

        class Kept(ResultCache):
            def save(self) -> None:
                pass

        def cache(salt: str) -> ResultCache:
            base = self.caches.get(settings.root)
            if base is None:
                base = self.caches[settings.root] = Kept(Path(settings.root), salt)
            if base.salt == salt.encode():
                return base
            view = copy.copy(base)  # other settings or packages: other keys, the same entries
            view.salt = salt.encode()
            return view

        return cache

    def configure(self, raw: Any) -> list[str]:
        options, problems = read_options(raw)
        config = options.get("config")
        if config and not os.path.isabs(os.path.expanduser(config)):
            options["config"] = os.path.join(self.root or os.getcwd(), config)
        elif config:
            options["config"] = os.path.expanduser(config)
        self.options = options
        return problems

    def settings(self, path: str) -> Settings:
        """The settings for one file: the configuration found from it (or the configured file), adjusted by the
        client's settings. Raises ConfigError."""
        from async_lint.api import settings_for

        return settings_for([path], **self.options)

    def lint(self, path: str, text: str, buffers: dict[str, str]) -> FileResult:
        from async_lint.api import _as_bytes, lint_source

        _forget_package_layout()
        overlay = {other: _as_bytes(content) for other, content in buffers.items() if other != path}
        settings = self.settings(path)
        return lint_source(_as_bytes(text), path, settings, overlay, self.cache_for(settings))

    def fix_all(self, path: str, text: str, buffers: dict[str, str], unsafe: bool = False) -> str:
        """`text` with every safe fix applied (in rounds, as `--fix` does)."""
        from async_lint.api import _as_bytes, fix_rounds
        from async_lint.source import decode

        _forget_package_layout()
        overlay = {other: _as_bytes(content) for other, content in buffers.items() if other != path}
        settings = self.settings(path)
        fixed, applied, _, _ = fix_rounds(_as_bytes(text), path, settings, unsafe, overlay, self.cache_for(settings))
        return decode(fixed).text if applied else text


def _forget_package_layout() -> None:
    """The index remembers which folders hold an `__init__.py`; a long-lived server must look again, since
    the user may have added or removed one since the last lint."""
    from async_lint import index

    index._INIT_CACHE.clear()


def untitled_path(uri: str, root: str | None) -> str:
    """A path for a buffer that is not a file (`untitled:Untitled-1`): in the workspace root, so the
    configuration found from the root applies."""
    name = uri.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or "untitled"
    if not name.endswith((".py", ".pyi")):
        name += ".py"
    return str(Path(root or os.getcwd()) / name)
