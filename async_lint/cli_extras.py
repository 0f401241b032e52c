"""The `check` options that change what a run does with its findings, with ruff's names and meanings:
`--add-noqa`, `--show-fixes`, `--fix-only`, `--exit-non-zero-on-fix`, `-o/--output-file` and `--force-exclude`.

Kept out of cli.py so that the command module stays small; cli.py applies `options` and calls the helpers.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, TextIO

import click

from async_lint.finding import Finding
from async_lint.paths import display_path

if TYPE_CHECKING:
    from async_lint.catalog import Catalog

# What `--add-noqa` never silences: a file that cannot be read or parsed, a crash of async-lint (as ruff, which
# adds no directive for a syntax error).
NOT_SILENCED = frozenset({"AL001", "AL002"})
_NOQA = re.compile(r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def options(command: Callable) -> Callable:
    """The click options of this module, appended to `check`'s."""
    for decorator in reversed([
        click.option("--add-noqa", is_flag=True,
                     help="Add `# noqa: CODE` to each line with a finding (merged with an existing noqa); "
                          "writes the files, reports nothing else, exits 0."),
        click.option("--show-fixes", is_flag=True,
                     help="List, per file and rule, the fixes applied (with --fix) or available."),
        click.option("--fix-only", is_flag=True,
                     help="Apply fixes (as --fix) and do not report the findings that remain; exit 0."),
        click.option("--exit-non-zero-on-fix", is_flag=True,
                     help="With --fix or --fix-only: exit 1 when a fix was applied, even if nothing remains."),
        click.option("-o", "--output-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Write the report (findings, summary) to this file instead of standard output."),
        click.option("--force-exclude", is_flag=True,
                     help="Apply the configured exclude patterns even to paths named on the command line "
                          "(what pre-commit hooks need)."),
    ]):
        command = decorator(command)
    return command


# ----------------------------------------------------------------------------------------------- --force-exclude

def _relative(path: Path, root: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def is_excluded(path: Path, root: Path, patterns: Iterable[str]) -> bool:
    """Whether an exclude pattern names `path` or one of the folders above it (up to the project root): a pattern
    matches an entry's name or its path relative to the root, as when walking a folder."""
    from async_lint.discovery import _Excludes  # the walk's own matcher, so both agree
    from async_lint.config import DEFAULT_EXCLUDES

    matcher = _Excludes(DEFAULT_EXCLUDES + tuple(patterns))
    parts = _relative(path, Path(os.path.abspath(root))).split("/")
    return any(matcher("/".join(parts[: i + 1]), parts[i]) for i in range(len(parts)) if parts[i] not in ("", "."))


def force_exclude(files: list[Path], root: Path, patterns: Iterable[str]) -> list[Path]:
    patterns = tuple(patterns)
    return [path for path in files if not is_excluded(path, root, patterns)]


# ------------------------------------------------------------------------------------------------------ --add-noqa

def merge_noqa(line: str, codes: Iterable[str]) -> str | None:
    """`line` (without its line ending) with `# noqa: CODES` added, merged into an existing `# noqa: X` comment
    (codes sorted, the text after the comment kept); None when nothing changes (a blanket `# noqa`)."""
    match = _NOQA.search(line)
    if match is None:
        return f"{line.rstrip()}  # noqa: {', '.join(sorted(set(codes)))}"
    if not match.group("codes"):
        return None  # a blanket noqa already silences everything
    old = [c.upper() for c in _CODE.findall(match.group("codes"))]
    merged = sorted(set(old) | set(codes))
    if merged == sorted(set(old)):
        return None
    return line[:match.start()] + f"# noqa: {', '.join(merged)}" + line[match.end():]


def _unsafe_rows(text: str) -> set[int]:
    """Rows whose end a comment cannot be added to: inside a multi-line string, or continued with a backslash."""
    rows: set[int] = set()
    commented: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                commented.add(tok.start[0])
            elif tok.end[0] > tok.start[0] and tok.type not in (tokenize.NEWLINE, tokenize.NL):
                rows.update(range(tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    for row, line in enumerate(text.splitlines(), start=1):
        if line.rstrip().endswith("\\") and row not in commented:
            rows.add(row)
    return rows


def add_noqa(findings: list[Finding]) -> tuple[int, list[tuple[str, str]]]:
    """Add a noqa directive for each finding to its file; (directives added, problems). A file is written only
    if it still compiles when it did before, through the atomic writer of `--fix`."""
    from async_lint.fixer import _compiles, encode, write_atomically
    from async_lint.source import SourceError, decode, read_file

    wanted: dict[str, dict[int, set[str]]] = {}
    for finding in findings:
        if finding.noqa_row is None or finding.code in NOT_SILENCED:
            continue
        wanted.setdefault(finding.path, {}).setdefault(finding.noqa_row, set()).add(finding.code)
    added = 0
    problems: list[tuple[str, str]] = []
    for path, rows in sorted(wanted.items()):
        try:
            data = read_file(path)
            source = decode(data)
        except (OSError, SourceError) as exc:
            problems.append((path, f"cannot add noqa: {getattr(exc, 'strerror', None) or exc}"))
            continue
        lines = source.text.splitlines(keepends=True)
        unsafe = _unsafe_rows(source.text)
        count = 0
        for row, codes in sorted(rows.items()):
            if not 0 < row <= len(lines):
                continue
            if row in unsafe:
                problems.append((path, f"line {row}: cannot add a noqa comment there (inside a string or a "
                                       "continued line)"))
                continue
            line = lines[row - 1]
            body = line.rstrip("\r\n")
            new = merge_noqa(body, codes)
            if new is not None:
                lines[row - 1] = new + line[len(body):]
                count += 1
        if not count:
            continue
        text = "".join(lines)
        if _compiles(source.text, path) and not _compiles(text, path):
            problems.append((path, "adding noqa comments would break the code; left unchanged (please report it)"))
            continue
        problem = write_atomically(path, encode(text, source), data)
        if problem:
            problems.append((path, problem))
            continue
        added += count
    return added, problems


# ---------------------------------------------------------------------------------------------------- --show-fixes

def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def available_fixes(findings: list[Finding], unsafe: bool) -> dict[str, Counter]:
    """path -> code -> fixes that `--fix` (with `--unsafe-fixes` when `unsafe`) would apply."""
    out: dict[str, Counter] = {}
    for f in findings:
        if f.fix is not None and (f.fix.applicability == "safe" or unsafe):
            out.setdefault(f.path, Counter())[f.code] += 1
    return out


def write_fix_listing(console: Any, per_file: dict[str, Counter], catalog: Catalog, applied: bool) -> None:
    """ruff's `--show-fixes` enumeration: `Fixed 3 findings:` then `- path:` and `    2 × AL101 (name)` lines."""
    total = sum(sum(c.values()) for c in per_file.values())
    if not total:
        return
    fixes = f"{total} fix{'es' * (total != 1)}"
    head = f"Fixed {_plural(total, 'finding')}:" if applied else f"{fixes} available:"
    console.print("")
    console.print(head, markup=False, highlight=False)
    for path in sorted(per_file):
        counts = per_file[path]
        if not sum(counts.values()):
            continue
        console.print(f"- {display_path(path)}:", markup=False, highlight=False)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            name = catalog.rules[code].name if code in catalog.rules else ""
            console.print(f"    {count} × {code} ({name})" if name else f"    {count} × {code}", markup=False,
                          highlight=False)
    console.print("")


def fix_only_line(applied: int, findings: list[Finding], unsafe: bool) -> str:
    """What `--fix-only` says instead of the findings: `Fixed 3 findings (1 additional fix available with
    --unsafe-fixes).` or `No findings fixed.`, as ruff."""
    more = 0 if unsafe else sum(1 for f in findings if f.fix is not None and f.fix.applicability == "unsafe")
    head = f"Fixed {_plural(applied, 'finding')}" if applied else "No findings fixed"
    if more:
        noun = "additional fix" if applied else "fix"
        noun = noun + "es" * (more != 1)
        return f"{head} ({more} {noun} available with --unsafe-fixes)."
    return head + "."


# --------------------------------------------------------------------------------------------------- --output-file

def open_output(path: Path) -> TextIO:
    """The `--output-file` stream (its folder made if needed), UTF-8 whatever the locale."""
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8", newline="")
