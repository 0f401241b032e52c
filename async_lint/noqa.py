"""AL003 unused-noqa: the async-lint codes of `# noqa` comments that silenced nothing, as ruff's RUF100.

It runs after the project pass, when every finding of the file is known (those confirmed by the index too), on
what the engine recorded as silenced (`FileResult.silenced`: row and code). Only AL codes are judged; a bare
`# noqa` and other linters' codes are left alone, and so is a code whose rule did not run on the file.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Callable

from async_lint.catalog import PEER_CODES, load_catalog
from async_lint.config import Settings
from async_lint.finding import Edit, FileResult, Finding, FixInfo
from async_lint.source import _CODE, _NOQA, SourceError, decode

CODE = "AL003"
_AL_CODE = re.compile(r"AL[0-9]+")


def _comments(text: str) -> list[tuple[int, int, str]]:
    """(row, 0-based column, text) of every comment that holds a noqa; none when the file does not tokenize."""
    out = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if token.type == tokenize.COMMENT and "noqa" in token.string.lower():
                out.append((token.start[0], token.start[1], token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return []
    return out


def _used(code: str, silenced: set[str]) -> bool:
    """Did `code` (a code or prefix) of a noqa silence one of the findings of its line (`silenced`)?"""
    return any(found.startswith(code) or code in PEER_CODES.get(found, ()) for found in silenced)


def unused_noqa(result: FileResult, read: Callable[[str], bytes], settings: Settings) -> None:
    """Add the AL003 findings of `result`'s file (or count them as suppressed by a `# noqa: AL003`)."""
    if result.internal_errors or result.warnings or any(f.code in ("AL001", "AL002") for f in result.findings):
        return  # the file was not (fully) linted: its noqa comments cannot be judged
    try:
        data = read(result.path)
        text = decode(data).text
    except (OSError, SourceError):
        return
    if "noqa" not in text.lower():
        return
    known = load_catalog().rules
    ran = settings.enabled - settings.ignored_in(result.path)
    if CODE not in ran:
        return  # in per-file-ignores
    lines = io.StringIO(text, newline=None).read().split("\n")
    by_row: dict[int, set[str]] = {}
    for row, code in result.silenced:
        by_row.setdefault(row, set()).add(code)
    for row, column, comment in _comments(text):
        match = _NOQA.search(comment)
        if match is None or not match.group("codes"):
            continue  # a bare `# noqa`: what it silences is not ours to judge
        line = lines[row - 1] if row <= len(lines) else ""
        first = _NOQA.search(line)
        if first is None or first.start() != column + match.start():
            continue  # the engine reads another noqa of this line (in a string): leave the line alone
        listed = [(m.group().upper(), m.start(), m.end()) for m in _CODE.finditer(comment, *match.span("codes"))]
        if any(CODE.startswith(code) for code, _, _ in listed if _AL_CODE.fullmatch(code)):
            continue  # `# noqa: AL003` says: leave this comment as it is
        unused, unknown, duplicated, kept = [], [], [], []
        seen: set[str] = set()
        silenced = by_row.get(row, set())
        for code, start, end in listed:
            if not _AL_CODE.fullmatch(code):
                kept.append(code)  # another linter's code
            elif code in seen:
                duplicated.append(code)
            elif not any(rule.startswith(code) for rule in known):
                unknown.append(code)
            elif not any(rule.startswith(code) for rule in ran) or _used(code, silenced):
                kept.append(code)  # used, or its rule did not run here: this run cannot tell
            else:
                unused.append(code)
            seen.add(code)
        if not (unused or unknown or duplicated):
            continue
        parts = [f"{label}: {', '.join(f'`{c}`' for c in codes)}"
                 for label, codes in (("unused", unused), ("unknown", unknown), ("duplicated", duplicated)) if codes]
        start_column, end_column = column + match.start(), column + match.end()
        edit = _edit(line, row, column, comment, match, kept)
        title = "Remove unused `noqa` directive" if not kept else "Remove unused codes from `noqa` directive"
        result.findings.append(Finding(
            CODE, f"unused `noqa` directive ({'; '.join(parts)})", result.path, row, start_column + 1, row,
            end_column + 1, suggestion="remove the codes that silence nothing", noqa_row=row,
            fix=FixInfo("safe", title, [edit]),
        ))
    result.findings.sort(key=Finding.sort_key)


def _edit(line: str, row: int, column: int, comment: str, match: re.Match, kept: list[str]) -> Edit:
    """The edit that leaves only the `kept` codes in the comment, or removes the noqa when none is left."""
    end = column + len(comment)
    if kept:
        start, stop = match.span("codes")
        return Edit(", ".join(kept), row, column + start + 1, row, column + stop + 1)
    before, after = comment[:match.start()], comment[match.end():]
    if before.strip() or after.strip():
        if not before.strip():  # `# noqa: AL101  # why`: the rest of the comment stays, as a comment
            rest = after.lstrip()
            new = rest if rest.startswith("#") else "# " + rest
        else:  # `# type: ignore  # noqa: AL101`
            new = before.rstrip() + after
        return Edit(new, row, column + 1, row, end + 1)
    # The comment is only the noqa: remove it and the blanks before it.
    start = len(line[:column].rstrip())
    return Edit("", row, start + 1, row, end + 1)
