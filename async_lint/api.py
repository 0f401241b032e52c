"""The Python API: lint files or a string, fix a string. Imported on first use of `async_lint.check` & co.

    import async_lint

    findings = async_lint.check(["app/"], select=["AL1"], ignore=["AL105"])
    fixed = async_lint.fix_source(text, "app/routes.py")

Settings keywords are the `[tool.async-lint]` keys with `_` for `-` (`extend_select`, `per_file_ignores`,
`helper_depth`, ...). They are applied on top of the configuration found from the first path (or `config=`),
the way command-line flags are. A configuration mistake raises `ConfigError`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Iterable, Union

from async_lint.config import ConfigError, Overrides, Settings, build_settings, expand_selectors
from async_lint.finding import Edit, FileResult, Finding, FixInfo

__all__ = ["check", "check_source", "fix_source", "settings_for", "ConfigError", "Finding", "FixInfo", "Edit"]

PathLike = Union[str, "os.PathLike[str]"]

# Keywords the command line also has: they go through the same merging with the configuration file.
_OVERRIDES = ("select", "ignore", "extend_select", "exclude")
# Keywords that set one field of the settings after the configuration was read.
_FIELDS = ("helper_depth", "max_file_size")
_OTHERS = ("config", "preview", "default_timeout", "extend_exclude", "per_file_ignores")


def _has_field(cls: type, name: str) -> bool:
    return any(f.name == name for f in dataclasses.fields(cls))


def _codes(value: Any, keyword: str) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{keyword}` must be a list of rule codes or prefixes")
    return [v.strip() for v in value if v.strip()]


def _patterns(value: Any, keyword: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{keyword}` must be a list of glob patterns")
    return list(value)


def known_keywords() -> list[str]:
    extra = [f.name for f in dataclasses.fields(Overrides) if f.name not in (*_OVERRIDES, "extra", "preview")]
    return sorted({*_OVERRIDES, *_FIELDS, *_OTHERS, *extra})


def settings_for(paths: Iterable[PathLike], **options: Any) -> Settings:
    """The settings of a run over `paths`: the configuration found from the first path (or the file named by
    `config=`), adjusted by `options` as the command line would adjust it."""
    targets = [Path(p) for p in paths] or [Path.cwd()]
    unknown = sorted(set(options) - set(known_keywords()))
    if unknown:
        raise TypeError(f"unknown setting `{unknown[0]}` (known: {', '.join(known_keywords())})")
    config = options.pop("config", None)
    config_file = Path(config) if config is not None else None
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file does not exist: {config_file}")
    overrides = Overrides()
    for name in _OVERRIDES:
        if options.get(name) is not None:
            convert = _patterns if name == "exclude" else _codes
            setattr(overrides, name, convert(options.pop(name), name))
    if options.get("default_timeout") is not None:
        overrides.extra["default_timeout"] = float(options.pop("default_timeout"))
    preview = options.pop("preview", None)
    if preview is not None and _has_field(Overrides, "preview"):
        overrides.preview = bool(preview)  # type: ignore[attr-defined]
        preview = None
    for name in [n for n in options if _has_field(Overrides, n)]:  # keywords of newer command-line flags
        value = options.pop(name)
        if value is not None:
            setattr(overrides, name, _codes(value, name) if name.endswith("select") else value)
    settings = build_settings(targets, config_file, overrides)
    if settings.tree is not None:  # each folder's settings get the same adjustments
        settings.tree.adjust = lambda folder_settings: _adjust(folder_settings, preview, options)
    return _adjust(settings, preview, options)


def _adjust(settings: Settings, preview: Any, options: dict[str, Any]) -> Settings:
    changes: dict[str, Any] = {}
    if preview is not None and _has_field(Settings, "preview"):
        changes["preview"] = bool(preview)
    depth = options.get("helper_depth")
    if depth is not None:
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
            raise ConfigError("`helper_depth` must be a whole number, 0 or more")
        changes["helper_depth"] = depth
    size = options.get("max_file_size")
    if size is not None:
        if not isinstance(size, (int, float)) or isinstance(size, bool) or size <= 0:
            raise ConfigError("`max_file_size` must be a positive number of megabytes")
        changes["max_file_size"] = float(size)
    if options.get("extend_exclude") is not None:
        changes["exclude"] = settings.exclude + tuple(_patterns(options["extend_exclude"], "extend_exclude"))
    per_file = options.get("per_file_ignores")
    if per_file is not None:
        if not isinstance(per_file, dict):
            raise ConfigError("`per_file_ignores` must be a dict of glob -> rule codes")
        catalog = settings.catalog()
        added = tuple((pattern, frozenset(expand_selectors(_codes(codes, "per_file_ignores"), catalog,
                                                           "per_file_ignores")))
                      for pattern, codes in per_file.items())
        changes["per_file_ignores"] = settings.per_file_ignores + added
    return dataclasses.replace(settings, **changes) if changes else settings


def _findings(results: list[FileResult]) -> list[Finding]:
    findings = [finding for result in results for finding in result.findings]
    findings.sort(key=Finding.sort_key)
    return findings


def check(paths: PathLike | Iterable[PathLike], *, jobs: int | None = None, cache: bool = False,
          **settings: Any) -> list[Finding]:
    """Lint files and folders (folders are walked as `async-lint check` walks them, honouring `exclude`) and
    return the findings, sorted by path and position. `cache=True` reads and fills `.async_lint_cache/`."""
    from async_lint.discovery import discover
    from async_lint.runner import lint_paths

    targets = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for target in targets:
        if not Path(target).exists():
            raise FileNotFoundError(f"path does not exist: {target}")
    resolved = settings_for(targets, **settings)
    found = discover([Path(t) for t in targets], Path(resolved.root), resolved.exclude, tree=resolved.tree)
    walked = [str(t) for t in targets if Path(t).is_dir()]
    return _findings(lint_paths([str(p) for p in found.files], resolved, jobs, use_cache=cache, walked=walked))


def _as_bytes(source: str | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    from async_lint.source import SourceError, decode

    data = source.encode("utf-8")
    try:
        encoding = decode(data).encoding  # a coding cookie names the encoding the text is to be read in
    except SourceError:
        return data
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        return data
    try:
        return source.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return data


def lint_source(data: bytes, filename: str, settings: Settings, buffers: dict[str, bytes] | None = None,
                cache_for: Any = None) -> FileResult:
    """One file's result for `data` (the file on disk, if any, is not read), with its package context: the
    project index comes from the other files of the package, read from `buffers` first, then from disk.
    `cache_for` is `lint_paths`'s: the language server's cache kept in memory."""
    from async_lint.runner import lint_paths

    overlay = dict(buffers or {})
    overlay[filename] = data
    return lint_paths([filename], settings, jobs=1, overlay=overlay, cache_for=cache_for)[0]


def check_source(source: str | bytes, filename: PathLike = "-", **settings: Any) -> list[Finding]:
    """Lint `source` as if it were the file `filename` (which need not exist): its configuration, per-file
    ignores and package are those of that path."""
    name = os.fspath(filename)
    resolved = settings_for([name if name != "-" else Path.cwd()], **settings)
    return _findings([lint_source(_as_bytes(source), name, resolved)])


def fix_rounds(data: bytes, filename: str, settings: Settings, unsafe: bool = False,
               buffers: dict[str, bytes] | None = None, cache_for: Any = None
               ) -> tuple[bytes, int, FileResult, list[str]]:
    """Apply fixes to `data` in rounds (as `--fix` does): (fixed bytes, fixes applied, the result of the last
    lint, problems)."""
    from async_lint.fixer import MAX_ROUNDS, fix_round

    result = lint_source(data, filename, settings, buffers, cache_for)
    applied = 0
    problems: list[str] = []
    for _ in range(MAX_ROUNDS):
        new, count, problem = fix_round(result, data, unsafe)
        if problem:
            problems.append(problem)
        if new is None:
            break
        data, applied = new, applied + count
        result = lint_source(data, filename, settings, buffers, cache_for)
    return data, applied, result, problems


def fix_source(source: str, filename: PathLike = "-", unsafe: bool = False, **settings: Any) -> str:
    """`source` with the fixes applied (safe ones; unsafe ones too with `unsafe=True`), linted as the file
    `filename`. A fix that would leave code that does not parse is not applied."""
    from async_lint.source import decode

    name = os.fspath(filename)
    resolved = settings_for([name if name != "-" else Path.cwd()], **settings)
    data = _as_bytes(source)
    fixed, applied, _, _ = fix_rounds(data, name, resolved, unsafe)
    if not applied:
        return source if isinstance(source, str) else decode(source).text
    return decode(fixed).text
