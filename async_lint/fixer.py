"""`--fix`, `--unsafe-fixes` and `--diff`: apply fixes in rounds, verify, then write atomically (or print diffs).

A fixed file must parse and compile whenever the original did; otherwise its fixes of that round are dropped and
the file is reported, untouched. Writing goes through a temporary file in the same folder and a rename, keeping
the file's permissions, encoding, BOM and line endings; a file that cannot be written is reported, not half-written.
"""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from async_lint.config import Settings
from async_lint.engine import FileResult
from async_lint.finding import FixInfo
from async_lint.fixes import apply_fixes
from async_lint.runner import lint_paths
from async_lint.source import Source, SourceError, decode

MAX_ROUNDS = 10


@dataclass
class FixOutcome:
    results: list[FileResult]
    original: dict[str, bytes] = field(default_factory=dict)  # path -> bytes before any fix
    fixed: dict[str, bytes] = field(default_factory=dict)  # path -> bytes after all rounds
    applied: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, message)


def _compiles(text: str, path: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def encode(text: str, source: Source) -> bytes:
    data = text.encode(source.encoding)
    return codecs.BOM_UTF8 + data if source.bom else data


def _wanted(fix: FixInfo | None, unsafe: bool) -> bool:
    return fix is not None and (fix.applicability == "safe" or unsafe)


def fix_round(result: FileResult, data: bytes, unsafe: bool) -> tuple[bytes | None, int, str | None]:
    """Apply one round of fixes to one file's bytes: (new bytes or None, fixes applied, problem)."""
    fixes = [f.fix for f in result.findings if _wanted(f.fix, unsafe)]
    if not fixes:
        return None, 0, None
    try:
        source = decode(data)
    except SourceError:
        return None, 0, None
    new_text, applied = apply_fixes(source.text, fixes)
    if applied == 0 or new_text == source.text:
        return None, 0, None
    try:
        cst.parse_module(new_text)
    except cst.ParserSyntaxError:
        return None, 0, "a fix produced code that does not parse; the file was left unchanged (please report it)"
    if _compiles(source.text, result.path) and not _compiles(new_text, result.path):
        return None, 0, "a fix produced code that does not compile; the file was left unchanged (please report it)"
    try:
        return encode(new_text, source), applied, None
    except UnicodeEncodeError:
        return None, 0, f"a fix produced text that cannot be encoded as {source.encoding}; left unchanged"


def run_fixes(paths: list[str], settings: Settings, unsafe: bool, jobs: int | None,
              use_cache: bool = False, progress=None, walked=(), on_warning=None) -> FixOutcome:
    results = lint_paths(paths, settings, jobs, progress=progress, use_cache=use_cache, walked=walked,
                         on_warning=on_warning)
    outcome = FixOutcome(results)
    overlay: dict[str, bytes] = {}
    position = {r.path: i for i, r in enumerate(results)}
    for round_number in range(MAX_ROUNDS):
        changed: list[str] = []
        for result in list(results):
            if not any(_wanted(f.fix, unsafe) for f in result.findings):
                continue
            try:
                data = overlay.get(result.path) or Path(result.path).read_bytes()
            except OSError as exc:
                outcome.problems.append((result.path, f"cannot read: {exc.strerror}"))
                continue
            new, applied, problem = fix_round(result, data, unsafe)
            if problem:
                outcome.problems.append((result.path, problem))
            if new is None:
                continue
            outcome.original.setdefault(result.path, data)
            overlay[result.path] = new
            outcome.applied += applied
            changed.append(result.path)
        if not changed:
            break
        for fresh in lint_paths(changed, settings, jobs=1, overlay=overlay):
            results[position[fresh.path]] = fresh
    else:
        still = [r.path for r in results if any(_wanted(f.fix, unsafe) for f in r.findings)]
        for path in still:
            outcome.problems.append((path, f"still fixable after {MAX_ROUNDS} rounds of fixes; stopped"))
    outcome.fixed = {path: data for path, data in overlay.items() if data != outcome.original.get(path)}
    outcome.results = results
    return outcome


def write_atomically(path: str, data: bytes) -> str | None:
    """Replace `path`'s content with `data` via a temporary file and a rename. Returns a problem or None."""
    target = Path(path)
    try:
        st = target.stat()
    except OSError as exc:
        return f"cannot write: {exc.strerror}"
    if not os.access(target, os.W_OK):
        return "not written: the file is read-only"
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".async-lint",
                                         delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, stat.S_IMODE(st.st_mode))
        os.replace(tmp_name, target)
        return None
    except OSError as exc:
        _discard(tmp_name)
        return f"not written: {exc.strerror or exc}"
    except BaseException:  # Ctrl-C between the temporary file and the rename: leave no debris
        _discard(tmp_name)
        raise


def _discard(tmp_name: str | None) -> None:
    if tmp_name and os.path.exists(tmp_name):
        os.unlink(tmp_name)


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    old = decode(before).text
    new = decode(after).text
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=path, tofile=path
    )
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)
