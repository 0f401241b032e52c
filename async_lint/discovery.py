"""Which files a run lints: `.py`/`.pyi` under the given paths, minus ignored and excluded ones."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from async_lint.config import DEFAULT_EXCLUDES
from async_lint.config_files import CONFIG_NAMES
from async_lint.source import read_file

if TYPE_CHECKING:
    import pathspec

    from async_lint.hierarchy import SettingsTree


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


def _gitignore_lines(folder: str) -> list[str] | None:
    try:
        data = read_file(os.path.join(folder, ".gitignore"))  # a FIFO named .gitignore must not block
    except OSError:
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _gitignore(folder: str) -> pathspec.PathSpec | None:
    lines = _gitignore_lines(folder)
    if lines is None:
        return None
    import pathspec  # only where a .gitignore exists: a run without one does not pay for the import

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _gitignore_above(folder: str, start_rel: str) -> pathspec.PathSpec | None:
    """The .gitignore of `folder`, a folder at or above a folder named on the command line (`start_rel` below
    `folder`), without the patterns that ignore the named folder or a folder between: a named folder is linted
    even if it is ignored, as ruff does; the other patterns still apply inside it."""
    lines = _gitignore_lines(folder)
    if lines is None:
        return None
    import pathspec

    if start_rel:
        parts = start_rel.split("/")
        between = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        lines = [line for line in lines
                 if not any(pathspec.GitIgnoreSpec.from_lines([line]).match_file(d) for d in between)]
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _relative(path: str, base: str) -> str | None:
    """`path` relative to folder `base` with forward slashes, or None when it is not below it."""
    if path == base:
        return ""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not path.startswith(prefix):
        return None
    rel = path[len(prefix):]
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _lintable(entry: os.DirEntry) -> bool:
    """A regular file (or a symlink to one) found while walking. FIFOs, sockets and devices are skipped: reading
    one could block the run. A symlink that leads nowhere (broken, a loop) is kept, to be reported (AL001)."""
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return True  # cannot tell: the reader reports it, without blocking


def discover(paths: list[Path], root: Path, exclude: tuple[str, ...], tree: SettingsTree | None = None
             ) -> Discovery:
    """Files to lint, sorted and unique. Paths named explicitly are always linted; folders are walked.
    The walk works on strings: a project of thousands of files would spend most of a cached run in pathlib.
    With per-folder configuration (`tree`), the `exclude` patterns of a folder are those of its nearest
    configuration file, relative to that file's folder, as in ruff."""
    result = Discovery()
    seen: set[str] = set()
    found: list[str] = []
    base_root, base_exclude = root, exclude

    def add(path: str) -> None:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            found.append(path)

    for start in paths:
        if tree is not None and start.is_dir():
            start_settings = tree.for_path(start)
            root, exclude = Path(start_settings.root), start_settings.exclude
        else:
            root, exclude = base_root, base_exclude
        patterns = DEFAULT_EXCLUDES + tuple(exclude)
        root_str = str(root)
        if not start.is_dir():
            # A file named on the command line is always linted; one that is not a regular file (a FIFO, a
            # device), a broken symlink or a symlink loop is then reported (AL001), never read.
            add(str(start))  # the CLI reports paths that do not exist before calling us
            continue
        # Ignore files from the root down to the start folder, then those met while walking.
        specs: list[tuple[str, pathspec.PathSpec]] = []
        abs_start = start.resolve()
        # .gitignore files count from the run's root, even above a folder with its own configuration.
        git_root = base_root if base_root == root or base_root in root.parents else root
        for folder in reversed([abs_start, *abs_start.parents]):
            if folder == git_root or git_root in folder.parents:
                spec = _gitignore_above(str(folder), _relative(str(abs_start), str(folder)) or "")
                if spec is not None:
                    specs.append((str(folder), spec))
        visited: set[tuple[int, int]] = set()
        # A folder named on the command line is linted even if an exclude pattern names it (or a folder above
        # it), as ruff does: those patterns do not apply below it.
        start_rel = _relative(str(abs_start), root_str)
        above = [] if not start_rel else ["/".join(start_rel.split("/")[: i + 1])
                                          for i in range(len(start_rel.split("/")))]
        excluded = _Excludes(tuple(p for p in patterns
                                   if not any(_Excludes((p,))(a, a.rsplit("/", 1)[-1]) for a in above)))

        def ignored(abs_path: str, is_dir: bool) -> bool:
            for base, spec in specs:
                rel = _relative(abs_path, base)
                if rel is not None and spec.match_file(rel + ("/" if is_dir else "")):
                    return True
            return False

        def walk(folder: str, abs_folder: str, top: bool, excluded: _Excludes, root_str: str) -> None:
            try:
                st = os.stat(folder)
            except OSError as exc:
                result.problems.append((Path(folder), f"cannot read folder: {exc.strerror}"))
                return
            if (st.st_dev, st.st_ino) in visited:
                result.problems.append((Path(folder), "symlink loop: folder already visited"))
                return
            visited.add((st.st_dev, st.st_ino))
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                result.problems.append((Path(folder), f"cannot read folder: {exc.strerror or exc}"))
                return
            if tree is not None and not top and any(e.name in CONFIG_NAMES for e in entries):
                here = tree.for_folder(abs_folder)
                if here.root != root_str:  # this folder has its own configuration: its excludes apply below
                    root_str = here.root
                    excluded = _Excludes(DEFAULT_EXCLUDES + tuple(here.exclude))
            own_spec = None if top else _gitignore(folder)
            if own_spec is not None and all(base != abs_folder for base, _ in specs):
                specs.append((abs_folder, own_spec))
            for entry in entries:
                path = os.path.join(folder, entry.name)
                abs_path = os.path.join(abs_folder, entry.name)
                rel = _relative(abs_path, root_str)
                if rel is None:
                    rel = path.replace(os.sep, "/")
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if excluded(rel, entry.name) or (specs and ignored(abs_path, is_dir)):
                    continue
                if is_dir:
                    walk(path, abs_path, False, excluded, root_str)
                elif entry.name.endswith((".py", ".pyi")) and _lintable(entry):
                    add(path)

        walk(str(start), str(abs_start), True, excluded, root_str)
    found.sort(key=lambda p: p.replace(os.sep, "/"))
    result.files = [Path(p) for p in found]
    return result
