"""`--fix`, `--unsafe-fixes` and `--diff`: apply fixes in rounds, verify, then write atomically (or print diffs).

A fixed file must parse and compile whenever the original did; otherwise its fixes of that round are dropped and
the file is reported, untouched. Writing goes through a temporary file in the same folder and a rename, keeping
the file's encoding, BOM and line endings, and what the file is (symlinks followed, mode, owner and group kept);
a file that cannot be written is reported, not half-written, and its fixes are not counted.
"""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field

import libcst as cst

from async_lint.config import Settings
from async_lint.engine import FileResult
from async_lint.finding import Finding, FixInfo
from async_lint.fix.apply import apply_fixes
from async_lint.runner import lint_paths
from async_lint.source import Source, SourceError, decode, read_file

MAX_ROUNDS = 10


@dataclass
class FixOutcome:
    results: list[FileResult]
    original: dict[str, bytes] = field(default_factory=dict)  # path -> bytes before any fix
    fixed: dict[str, bytes] = field(default_factory=dict)  # path -> bytes after all rounds
    applied: int = 0  # fixes in the files of `fixed` (after writing: in the files written)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    applied_to: dict[str, int] = field(default_factory=dict)  # path -> fixes applied to it
    aliases: dict[str, list[str]] = field(default_factory=dict)  # path -> other names of the same file
    before: dict[str, FileResult] = field(default_factory=dict)  # path -> its result before any fix
    codes: dict[str, Counter] = field(default_factory=dict)  # path -> rule code -> fixes applied (--show-fixes)


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


def applied_codes(text: str, findings: list[Finding]) -> Counter:
    """The rule codes of the fixes `apply_fixes` takes from `findings` (in that order) on `text`: a fix is taken
    when it overlaps no earlier one, so fix k is taken iff the first k+1 fixes apply one more than the first k."""
    codes: Counter = Counter()
    before = 0
    for k in range(len(findings)):
        _, count = apply_fixes(text, [f.fix for f in findings[: k + 1]])
        if count > before:
            codes[findings[k].code] += 1
        before = count
    return codes


def fix_round(result: FileResult, data: bytes, unsafe: bool, codes: Counter | None = None
              ) -> tuple[bytes | None, int, str | None]:
    """Apply one round of fixes to one file's bytes: (new bytes or None, fixes applied, problem). `codes`, when
    given, counts the rule codes of the fixes applied (for `--show-fixes`)."""
    wanted = [f for f in result.findings if _wanted(f.fix, unsafe)]
    fixes = [f.fix for f in wanted]
    if not fixes:
        return None, 0, None
    try:
        source = decode(data)
    except SourceError:
        return None, 0, None
    new_text, applied = apply_fixes(source.text, fixes)
    if applied == 0 or new_text == source.text:
        return None, 0, None
    if codes is not None:
        round_codes = applied_codes(source.text, wanted)
    else:
        round_codes = Counter()
    try:
        cst.parse_module(new_text)
    except cst.ParserSyntaxError:
        return None, 0, "a fix produced code that does not parse; the file was left unchanged (please report it)"
    if _compiles(source.text, result.path) and not _compiles(new_text, result.path):
        return None, 0, "a fix produced code that does not compile; the file was left unchanged (please report it)"
    try:
        encoded = encode(new_text, source)
    except UnicodeEncodeError:
        return None, 0, f"a fix produced text that cannot be encoded as {source.encoding}; left unchanged"
    if codes is not None:
        codes.update(round_codes)
    return encoded, applied, None


def run_fixes(paths: list[str], settings: Settings, unsafe: bool, jobs: int | None,
              use_cache: bool = False, progress=None, walked=(), on_warning=None, count_codes: bool = False
              ) -> FixOutcome:
    results = lint_paths(paths, settings, jobs, progress=progress, use_cache=use_cache, walked=walked,
                         on_warning=on_warning)
    outcome = FixOutcome(results)
    outcome.before = {r.path: r for r in results}
    # A symlink and its target (or two links to one file) are one file: fixed and written once, under the
    # first name; the other names are linted again with the fixed content.
    first_name: dict[str, str] = {}
    for result in results:
        owner = first_name.setdefault(os.path.realpath(result.path), result.path)
        if owner != result.path:
            outcome.aliases.setdefault(owner, []).append(result.path)
    aliases = {alias for names in outcome.aliases.values() for alias in names}
    overlay: dict[str, bytes] = {}
    position = {r.path: i for i, r in enumerate(results)}
    for round_number in range(MAX_ROUNDS):
        changed: list[str] = []
        for result in list(results):
            if result.path in aliases or not any(_wanted(f.fix, unsafe) for f in result.findings):
                continue
            try:
                data = overlay.get(result.path) or read_file(result.path)
            except OSError as exc:
                outcome.problems.append((result.path, f"cannot read: {exc.strerror}"))
                continue
            round_codes: Counter = Counter()
            new, applied, problem = fix_round(result, data, unsafe, round_codes if count_codes else None)
            if problem:
                outcome.problems.append((result.path, problem))
            if new is None:
                continue
            outcome.original.setdefault(result.path, data)
            overlay[result.path] = new
            outcome.applied_to[result.path] = outcome.applied_to.get(result.path, 0) + applied
            outcome.codes.setdefault(result.path, Counter()).update(round_codes)
            changed.append(result.path)
            for alias in outcome.aliases.get(result.path, ()):
                overlay[alias] = new
                changed.append(alias)
        if not changed:
            break
        for fresh in lint_paths(changed, settings, jobs=1, overlay=overlay):
            results[position[fresh.path]] = fresh
    else:
        still = [r.path for r in results if r.path not in aliases and any(_wanted(f.fix, unsafe) for f in r.findings)]
        for path in still:
            outcome.problems.append((path, f"still fixable after {MAX_ROUNDS} rounds of fixes; stopped"))
    outcome.fixed = {path: data for path, data in overlay.items()
                     if path not in aliases and data != outcome.original.get(path)}
    outcome.applied = sum(outcome.applied_to.get(path, 0) for path in outcome.fixed)
    outcome.codes = {path: outcome.codes[path] for path in outcome.fixed if path in outcome.codes}
    outcome.results = results
    return outcome


def write_fixes(outcome: FixOutcome) -> None:
    """Write every fixed file. A file that is not written is reported, keeps its findings as they were before
    the fixes, and its fixes are not counted."""
    position = {r.path: i for i, r in enumerate(outcome.results)}
    for path in sorted(outcome.fixed):
        problem = write_atomically(path, outcome.fixed[path], outcome.original.get(path))
        if problem is None:
            continue
        outcome.problems.append((path, problem))
        outcome.applied -= outcome.applied_to.get(path, 0)
        outcome.codes.pop(path, None)
        for name in (path, *outcome.aliases.get(path, ())):
            outcome.results[position[name]] = outcome.before[name]


def write_atomically(path: str, data: bytes, expected: bytes | None = None) -> str | None:
    """Replace the content of the file at `path` with `data` through a temporary file and a rename, keeping what
    the file is: a symlink stays a symlink (its target is rewritten), mode, owner and group are kept. A file
    without write permission bits is never written, even by root; nor is a file with other hard links (the
    rename would split them) or one that changed since it was read (`expected`). Returns a problem or None."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError as exc:
        return f"cannot write: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "not written: not a regular file"
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return "not written: the file is read-only (no write permission bit)"
    if not os.access(real, os.W_OK):
        return "not written: no permission to write the file"
    if st.st_nlink > 1:
        return f"not written: the file has {st.st_nlink} hard links, which replacing it would split"
    if expected is not None:
        try:
            if read_file(real) != expected:
                return "not written: the file changed while it was being fixed"
        except OSError as exc:
            return f"cannot write: {exc.strerror}"
    folder, name = os.path.split(real)
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", suffix=".async-lint", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
            mine = os.fstat(tmp.fileno())
        if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
            try:
                os.chown(tmp_name, st.st_uid, st.st_gid)  # before chmod: chown clears set-user-ID bits
            except OSError:
                _discard(tmp_name)
                return (f"not written: cannot keep the file's owner and group (uid {st.st_uid}, gid {st.st_gid}) "
                        "in a new file")
        os.chmod(tmp_name, stat.S_IMODE(st.st_mode))
        os.replace(tmp_name, real)
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
