"""Applying text edits: plain text surgery on the original, so every byte outside the edited ranges stays."""

from __future__ import annotations

import re
from typing import Callable, Sequence

from async_lint.finding import FixInfo

_NEWLINE = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts (rows as libcst counts them: \\r\\n, \\r and \\n end a line)."""
    starts = [0]
    starts.extend(m.end() for m in _NEWLINE.finditer(text))
    return starts


def source_lines(text: str) -> list[str]:
    return _NEWLINE.split(text)


def _offset(starts: list[int], text: str, row: int, column: int) -> int:
    if row > len(starts):
        return len(text)
    return min(starts[row - 1] + column - 1, len(text))


def apply_fixes(text: str, fixes: Sequence[FixInfo], allow: Callable[[FixInfo], bool] = lambda f: True
                ) -> tuple[str, int]:
    """Apply every fix whose edits overlap no earlier fix's (the rest wait for the next round).
    Identical edits (the same import) are applied once. Returns the new text and the number applied."""
    starts = line_starts(text)
    taken: list[tuple[int, int]] = []
    chosen: dict[tuple[int, int, str], tuple[int, int, str]] = {}
    applied = 0
    for fix in fixes:
        if not allow(fix):
            continue
        ranges = []
        for edit in fix.edits:
            start = _offset(starts, text, edit.row, edit.column)
            end = _offset(starts, text, edit.end_row, edit.end_column)
            ranges.append((start, end, edit.content))
        new_ranges = [r for r in ranges if r not in chosen.values()]
        claimed = [(r[0], r[1]) for r in new_ranges]
        if fix.isolation is not None:
            row, column, end_row, end_column = fix.isolation
            claimed.append((_offset(starts, text, row, column), _offset(starts, text, end_row, end_column)))
        if any(_overlaps(c, t) or _overlaps(t, c) for c in claimed for t in taken):
            continue
        for r in new_ranges:
            chosen[r] = r
        taken.extend(claimed)
        applied += 1
    out = text
    # Insertions at the same point keep their order; apply from the end so offsets stay valid.
    for start, end, content in sorted(chosen.values(), key=lambda r: (r[0], r[1]), reverse=True):
        out = out[:start] + content + out[end:]
    return out, applied


def _overlaps(a: tuple[int, int] | tuple[int, int, str], b: tuple[int, int]) -> bool:
    a0, a1 = a[0], a[1]
    b0, b1 = b
    if a0 == a1 or b0 == b1:  # an insertion conflicts only strictly inside a replaced range
        return b0 < a0 < b1 or a0 < b0 < a1
    return a0 < b1 and b0 < a1
