"""Which files a run lints: `.py`/`.pyi` under the given paths, minus ignored and excluded ones."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from async_lint.config import DEFAULT_EXCLUDES


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)  # (path, message): unreadable folders, loops


class _Excludes:
    """Exclude globs compiled once: a pattern matches an entry's name, its path relative to the root, or any
    file below a matching folder."""

    def __init__(self, patterns: tuple[str, ...]):
        names = [fnmatch.translate(p) for p in patterns]
        paths = [fnmatch.translate(p.rstrip("/") + "/*") for p in patterns]
        self.name = re.compile("|".join(names)) if names else None
        self.path = re.compile("|".join(names + paths)) if names else None

    def __call__(self, rel: str, name: str) -> bool:
        return bool(self.name and (self.name.match(name) or self.path.match(rel)))


def _gitignore(folder: Path) -> pathspec.PathSpec | None:
    path = folder / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(paths: list[Path], root: Path, exclude: tuple[str, ...]) -> Discovery:
    """Files to lint, sorted and unique. Paths named explicitly are always linted; folders are walked."""
    result = Discovery()
    seen: set[Path] = set()
    excluded = _Excludes(DEFAULT_EXCLUDES + tuple(exclude))

    def add(path: Path) -> None:
        key = path.absolute()
        if key not in seen:
            seen.add(key)
            result.files.append(path)

    for start in paths:
        if start.is_file() or (start.is_symlink() and not start.exists()):
            add(start)
            continue
        if not start.is_dir():
            continue  # the CLI reports paths that do not exist before calling us
        # Ignore files from the root down to the start folder, then those met while walking.
        specs: list[tuple[Path, pathspec.PathSpec]] = []
        abs_start = start.resolve()
        chain = [abs_start, *abs_start.parents]
        for folder in reversed(chain):
            if folder == root or root in folder.parents:
                spec = _gitignore(folder)
                if spec is not None:
                    specs.append((folder, spec))
        visited: set[tuple[int, int]] = set()

        def ignored(abs_path: Path, is_dir: bool) -> bool:
            for base, spec in specs:
                try:
                    rel = abs_path.relative_to(base).as_posix()
                except ValueError:
                    continue
                if spec.match_file(rel + ("/" if is_dir else "")):
                    return True
            return False

        def walk(folder: Path, abs_folder: Path) -> None:
            try:
                st = folder.stat()
            except OSError as exc:
                result.problems.append((folder, f"cannot read folder: {exc.strerror}"))
                return
            if (st.st_dev, st.st_ino) in visited:
                result.problems.append((folder, "symlink loop: folder already visited"))
                return
            visited.add((st.st_dev, st.st_ino))
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                result.problems.append((folder, f"cannot read folder: {exc.strerror or exc}"))
                return
            own_spec = _gitignore(folder) if folder != start else None
            if own_spec is not None and all(base != abs_folder for base, _ in specs):
                specs.append((abs_folder, own_spec))
            for entry in entries:
                path = folder / entry.name
                abs_path = abs_folder / entry.name
                try:
                    rel = abs_path.relative_to(root).as_posix()
                except ValueError:
                    rel = path.as_posix()
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if excluded(rel, entry.name) or ignored(abs_path, is_dir):
                    continue
                if is_dir:
                    walk(path, abs_path)
                elif entry.name.endswith((".py", ".pyi")):
                    add(path)

        walk(start, abs_start)
    result.files.sort(key=lambda p: p.as_posix())
    return result
