"""Findings and fixes as LSP data: diagnostics, text edits, the `# noqa` edit, the hover text.

async-lint counts rows from 1 and columns from 1 in code points, with `\\r\\n`, `\\r` and `\\n` ending lines (as
libcst does); LSP counts both from 0, columns in the code units the client and server agreed on (UTF-16 by
default). `Lines` converts between the two for one text.
"""

from __future__ import annotations

import bisect
import re
from typing import Callable

from lsprotocol import types

from async_lint.catalog import RuleDoc
from async_lint.finding import Edit, Finding, FixInfo
from async_lint.source import noqa_codes

SOURCE = "async-lint"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.async-lint"
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Lines:
    """One text's lines (without their endings) and the client's column units."""

    def __init__(self, text: str, units: Callable[[str], int] = _utf16):
        self.text = text
        self.units = units
        self.starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        ends = [m.start() for m in _NEWLINE.finditer(text)] + [len(text)]
        self.lines = [text[start:end] for start, end in zip(self.starts, ends)]

    def position(self, row: int, column: int) -> types.Position:
        """The LSP position of 1-based (row, column in code points); past the end: the end of the text."""
        if row > len(self.lines):
            return types.Position(len(self.lines) - 1, self.units(self.lines[-1]))
        line = self.lines[max(row, 1) - 1]
        return types.Position(max(row, 1) - 1, self.units(line[: max(column, 1) - 1]))

    def range(self, row: int, column: int, end_row: int, end_column: int) -> types.Range:
        return types.Range(self.position(row, column), self.position(end_row, end_column))

    def offset(self, position: types.Position) -> int:
        """The offset in the text of an LSP position."""
        if position.line >= len(self.lines):
            return len(self.text)
        line = self.lines[position.line]
        count = 0
        for index, char in enumerate(line):
            if count >= position.character:
                return self.starts[position.line] + index
            count += self.units(char)
        return self.starts[position.line] + len(line)

    def position_at(self, offset: int) -> types.Position:
        row = bisect.bisect_right(self.starts, offset) - 1
        return types.Position(row, self.units(self.text[self.starts[row]:offset]))


def finding_range(finding: Finding, lines: Lines) -> types.Range:
    return lines.range(finding.row, finding.column, finding.end_row, finding.end_column)


def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    # AL0xx (the file cannot be read or parsed, an internal error) are errors; findings are warnings.
    severity = types.DiagnosticSeverity.Error if finding.code.startswith("AL0") else types.DiagnosticSeverity.Warning
    message = finding.message
    if finding.suggestion and finding.code != "AL002":
        message += f"\nhelp: {finding.suggestion}"
    return types.Diagnostic(
        range=finding_range(finding, lines), message=message, severity=severity, code=finding.code, source=SOURCE,
        data={"fix": finding.fix.applicability if finding.fix is not None else None},
    )


def text_edit(edit: Edit, lines: Lines) -> types.TextEdit:
    return types.TextEdit(range=lines.range(edit.row, edit.column, edit.end_row, edit.end_column),
                          new_text=edit.content)


def fix_edits(fix: FixInfo, lines: Lines) -> list[types.TextEdit]:
    return [text_edit(edit, lines) for edit in fix.edits]


_NOQA_CODES = re.compile(r"(#\s*noqa\s*:\s*)([A-Z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Z]+[0-9]+)*)", re.IGNORECASE)


def noqa_edit(finding: Finding, lines: Lines) -> types.TextEdit | None:
    """The edit that silences `finding` on its line: `  # noqa: AL101` at the end, or the code added to the
    line's `# noqa: ...` list. None when the line already silences it (a blanket `# noqa`)."""
    row = finding.noqa_row
    if row is None or not 0 < row <= len(lines.lines):  # None: a problem of the file (AL0xx), no line to mark
        return None
    line = lines.lines[row - 1]
    codes = noqa_codes(line)
    if codes is not None and (not codes or finding.code in codes):
        return None
    match = _NOQA_CODES.search(line) if codes else None
    if match is not None:
        column = match.end(2) + 1
        new_text = f", {finding.code}"
    else:
        column = len(line.rstrip()) + 1
        new_text = f"  # noqa: {finding.code}" if line.strip() else f"# noqa: {finding.code}"
        if column <= len(line):  # trailing blanks: replace them
            end = lines.position(row, len(line) + 1)
            return types.TextEdit(types.Range(lines.position(row, column), end), new_text)
    at = lines.position(row, column)
    return types.TextEdit(types.Range(at, at), new_text)


def replace_text(old: str, new: str, lines: Lines) -> list[types.TextEdit]:
    """One edit turning `old` (the text of `lines`) into `new`: the differing middle, not the whole text."""
    if old == new:
        return []
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    # Never split a \r\n pair: the positions of its halves are the same line break.
    while start > 0 and old[start - 1] == "\r" and old[start:start + 1] == "\n":
        start -= 1
    while end > 0 and old[len(old) - end - 1:len(old) - end] == "\r" and old[len(old) - end] == "\n":
        end -= 1
    return [types.TextEdit(types.Range(lines.position_at(start), lines.position_at(len(old) - end)),
                           new[start:len(new) - end])]


def hover_text(finding: Finding, rule: RuleDoc | None) -> str:
    from async_lint.reporters import rule_markdown

    head = f"**{finding.code}**" + (f" `{rule.name}`" if rule is not None else "")
    body = [head, "", finding.message]
    if finding.suggestion and finding.code != "AL002":
        body += ["", f"*help:* {finding.suggestion}"]
    if rule is not None:
        body += ["", "---", "", rule_markdown(rule).replace("\n## ", "\n#### ")]
    return "\n".join(body).rstrip() + "\n"
