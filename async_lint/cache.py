"""The result cache: per-file results keyed by content, so an unchanged file is never parsed again.

The key of a file is a hash of its bytes, how it was linted (forced, summary only), its module name, the project's
top-level packages, the async-lint version and code, the effective settings and the catalog. Cached results hold what a
file says on its own: findings, the project-index summary and the deferred questions. Cross-file answers are
recomputed on every run from the (cached) summaries, so a changed module changes its dependents' findings
without their being re-linted. Everything lives in one file under `.async_lint_cache/` at the project root,
which a `.gitignore` inside keeps out of version control, like ruff's cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path

from async_lint import __version__

CACHE_DIR = ".async_lint_cache"
_FORMAT = 1


class ResultCache:
    def __init__(self, root: Path, salt: str):
        self.folder = root / CACHE_DIR
        self.file = self.folder / f"v{_FORMAT}-{__version__}.pickle"
        self.salt = salt.encode()
        self.entries: dict[str, tuple[str, bytes]] = {}  # abs path + mode -> (key, pickled result)
        self.dirty = False
        self.hits = 0
        try:
            with open(self.file, "rb") as handle:
                data = pickle.load(handle)
            if isinstance(data, dict) and data.get("salt") == self.salt:
                self.entries = data["entries"]
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, KeyError, TypeError,
                ValueError):
            self.entries = {}

    def key(self, data: bytes, mode: str, module: str) -> str:
        digest = hashlib.blake2b(data, digest_size=20, key=self.salt[:64])
        digest.update(f"\0{mode}\0{module}".encode())
        return digest.hexdigest()

    def get(self, path: str, mode: str, key: str):
        entry = self.entries.get(f"{os.path.abspath(path)}\0{mode}")
        if entry is None or entry[0] != key:
            return None
        self.hits += 1
        return pickle.loads(entry[1])

    def put(self, path: str, mode: str, key: str, result) -> None:
        if result.internal_errors:
            return  # a crash is not an answer worth keeping
        self.entries[f"{os.path.abspath(path)}\0{mode}"] = (key, pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.folder.mkdir(exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Automatically created by async-lint.\n*\n")
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".cache-", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump({"salt": self.salt, "entries": self.entries}, handle, pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
            for stale in self.folder.glob("v*.pickle"):
                if stale != self.file:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still lints; it just does not remember


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
        shutil.rmtree(folder)
        return True
    return False
