"""Reading the built-in catalog (`rules/*.toml`), through a snapshot of the parsed data in the user's cache.

Every run reads the catalog, and parsing its TOML was a sixth of a warm run (tomllib is pure Python: 17 ms for
12 files, where `json.loads` of the same data takes 1 ms). The parsed data is kept as JSON under the user's cache
folder (`$XDG_CACHE_HOME/async-lint`, else `~/.cache/async-lint`; `ASYNC_LINT_CATALOG_SNAPSHOTS=0` turns it off),
named by a hash of the TOML files' names and bytes: an edited catalog is a new name, and a snapshot that does not
read back as the same files' data is ignored. The folder is the user's own (not the project's `.async_lint_cache/`,
which may come with a clone): what it holds is data for the catalog, never code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

_VERSION = 1  # of the snapshot layout


def snapshot_folder() -> Path | None:
    if os.environ.get("ASYNC_LINT_CATALOG_SNAPSHOTS", "1") == "0":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "async-lint" if os.path.isabs(base) else None


def read_catalog_files(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file name, parsed TOML) of each `*.toml` in `folder`, sorted by name."""
    files = [(path.name, path.read_bytes()) for path in sorted(folder.glob("*.toml"))]
    digest = hashlib.sha256(str(_VERSION).encode())
    for name, data in files:
        digest.update(b"\0%s\0%d\0" % (name.encode(), len(data)))
        digest.update(data)
    snapshots = snapshot_folder()
    snapshot = snapshots / f"catalog-{digest.hexdigest()[:40]}.json" if snapshots is not None else None
    if snapshot is not None:
        found = _read_snapshot(snapshot, [name for name, _ in files])
        if found is not None:
            return found
    parsed = [(name, _parse_toml(data)) for name, data in files]
    if snapshot is not None:
        _write_snapshot(snapshot, parsed)
    return parsed


def _parse_toml(data: bytes) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(data.decode("utf-8"))


def _read_snapshot(path: Path, names: list[str]) -> list[tuple[str, dict[str, Any]]] | None:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError, RecursionError):
        return None
    if not (isinstance(data, list) and len(data) == len(names) and all(
            isinstance(item, list) and len(item) == 2 and item[0] == name and isinstance(item[1], dict)
            for item, name in zip(data, names))):
        return None
    return [(name, parsed) for name, parsed in data]


def _write_snapshot(path: Path, parsed: list[tuple[str, dict[str, Any]]]) -> None:
    data = [[name, values] for name, values in parsed]
    try:
        text = json.dumps(data, separators=(",", ":"))
        if json.loads(text) != data:
            return  # a value JSON does not keep as it is (a TOML date): parse the TOML every time
    except (TypeError, ValueError):
        return
    from async_lint.cache import replace_with_text

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_with_text(path, text)
        _prune(path.parent, keep=path)
    except OSError:
        pass  # a read-only home: the TOML is parsed on every run, as before


_KEPT = 8  # snapshots kept: a few installed versions (or edits of a checkout's catalog) side by side


def _prune(folder: Path, keep: Path) -> None:
    """Remove the oldest snapshots beyond `_KEPT`."""
    try:
        found = sorted(folder.glob("catalog-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in found[_KEPT:]:
        if old != keep:
            try:
                old.unlink(missing_ok=True)
            except OSError:
                pass
