"""The result cache: per-file results keyed by content, so an unchanged file is never parsed again.

The key of a file is a hash of its bytes, how it was linted (forced, summary only), its module name, the project's
top-level packages, the async-lint version and code, the effective settings and the catalog. Cached results hold what a
file says on its own: findings, the project-index summary and the deferred questions. Cross-file answers are
recomputed on every run from the (cached) summaries, so a changed module changes its dependents' findings
without their being re-linted. Everything lives in one JSON file under `.async_lint_cache/` at the project root,
which a `.gitignore` inside keeps out of version control, like ruff's cache. A few keys are kept per file, so a
run over some files (whose settings or packages differ) does not evict what the full run stored.

The cache is data, never code: a cache folder that came with a cloned repository is read as untrusted input.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from async_lint import __version__

CACHE_DIR = ".async_lint_cache"
_FORMAT = 3  # 3: word sets as one string (cache_format "w")
MAX_BYTES = 256 * 1024 * 1024  # a larger cache file is not read (and is rewritten)
MAX_ENTRIES = 200_000
KEYS_PER_FILE = 3  # results kept per file and mode: a partial run (other settings) keeps the full run's


class ResultCache:
    """Results by file, mode and content key, stored as data (see `cache_format`): loading a crafted or
    corrupt cache can only fail, with one warning, never run code or end the run."""

    def __init__(self, root: Path, salt: str, on_warning: Callable[[str], None] | None = None):
        self.folder = root / CACHE_DIR
        self.file = self.folder / f"v{_FORMAT}-{__version__}.json"
        self.salt = salt.encode()
        # abs path + mode -> [[key, encoded result], ...], most recent first; decoded only on a hit
        self.entries: dict[str, list[list[str]]] = {}
        self.dirty = False
        self.hits = 0
        self.warn = on_warning or (lambda message: None)
        self.warned = False
        self._load()

    def _problem(self, what: str) -> None:
        self.dirty = True  # rewrite it
        if not self.warned:
            self.warned = True
            self.warn(f"ignoring the result cache {self.file} ({what}); it will be rewritten")

    def _load(self) -> None:
        try:
            size = self.file.stat().st_size
        except FileNotFoundError:
            if any(self.folder.glob("v*.pickle")):
                self.dirty = True  # an old format: replaced (never read) on save
            return
        except OSError as error:
            self._problem(error.strerror or "unreadable")
            return
        if size > MAX_BYTES:
            self._problem(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
            return
        try:
            with open(self.file, "rb") as handle:
                data = json.loads(handle.read(MAX_BYTES + 1).decode("utf-8"))
        except (OSError, ValueError, UnicodeError, RecursionError, MemoryError) as error:
            self._problem(f"unreadable: {type(error).__name__}")
            return
        entries = data.get("entries") if isinstance(data, dict) and data.get("format") == _FORMAT else None
        if not isinstance(entries, dict) or len(entries) > MAX_ENTRIES or not all(
            isinstance(keys, list) and len(keys) <= KEYS_PER_FILE and all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
                for pair in keys)
            for keys in entries.values()
        ):
            self._problem("not a cache this version wrote")
            return
        self.entries = entries

    def key(self, data: bytes, mode: str, module: str) -> str:
        digest = hashlib.blake2b(data, digest_size=20, key=self.salt[:64])
        digest.update(f"\0{mode}\0{module}".encode())
        return digest.hexdigest()

    def get(self, path: str, mode: str, key: str, only: frozenset[str] | None = None):
        """The stored result, or None; `only`: decode just these fields of it (cache_format.loads)."""
        from async_lint.cache_format import CorruptEntry, loads

        slot = f"{os.path.abspath(path)}\0{mode}"
        for position, (stored, text) in enumerate(self.entries.get(slot, ())):
            if stored != key:
                continue
            try:
                result = loads(text, only)
            except CorruptEntry as error:
                self._problem(f"a corrupt entry: {error}")
                del self.entries[slot][position]
                return None
            from async_lint.finding import FileResult

            if not isinstance(result, FileResult):
                self._problem("a corrupt entry")
                del self.entries[slot][position]
                return None
            if position:
                self.entries[slot].insert(0, self.entries[slot].pop(position))
                self.dirty = True
            self.hits += 1
            return result
        return None

    def put(self, path: str, mode: str, key: str, result) -> None:
        if result.internal_errors:
            return  # a crash is not an answer worth keeping
        from async_lint.cache_format import dumps

        slot = f"{os.path.abspath(path)}\0{mode}"
        kept = [pair for pair in self.entries.get(slot, ()) if pair[0] != key]
        self.entries[slot] = [[key, dumps(result)], *kept][:KEYS_PER_FILE]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        entries = {slot: keys for slot, keys in self.entries.items()
                   if os.path.exists(slot.rsplit("\0", 1)[0])}  # forget deleted files
        if len(entries) > MAX_ENTRIES:
            entries = dict(list(entries.items())[-MAX_ENTRIES:])
        try:
            self.folder.mkdir(exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Automatically created by async-lint.\n*\n")
            text = json.dumps({"format": _FORMAT, "entries": entries}, separators=(",", ":"))  # one C call
            replace_with_text(self.file, text)
            for stale in self.folder.glob("v*"):
                if stale != self.file and stale.suffix in (".pickle", ".json"):
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still lints; it just does not remember


def replace_with_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file renamed over it: readers see the old file or the new
    one, never half of one, and a failure (OSError, raised) leaves no temporary file behind."""
    import tempfile  # only a run that changed something writes (tempfile imports random: 3 ms)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def code_fingerprint() -> str:
    """Names, sizes and times of async-lint's own modules: an edited checkout (or a reinstall of the same
    version) must not be answered with results the old code produced."""
    package = Path(__file__).resolve().parent
    parts = []
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        parts.append(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def salt_for(settings, catalog_digest: str, packages: frozenset[str]) -> str:
    return hashlib.sha256(
        f"{__version__}\0{code_fingerprint()}\0{settings.cache_key()}\0{catalog_digest}\0{sorted(packages)}"
        .encode()
    ).hexdigest()


def clean(root: Path) -> bool:
    folder = root / CACHE_DIR
    if folder.is_dir():
        import shutil

        shutil.rmtree(folder)
        return True
    return False
