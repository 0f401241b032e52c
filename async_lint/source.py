"""Reading a file's bytes into text the way Python would (BOM, PEP 263 cookie), and its `# noqa` comments."""

from __future__ import annotations

import codecs
import re
import tokenize
from dataclasses import dataclass


class SourceError(Exception):
    """A file that cannot be read or decoded; the message names the problem, the row where it is (or 1)."""

    def __init__(self, message: str, row: int = 1, column: int = 1):
        super().__init__(message)
        self.row = row
        self.column = column


@dataclass
class Source:
    text: str
    encoding: str
    bom: bool
    newline: str  # the file's first line ending: "\n", "\r\n" or "\r"


def decode(data: bytes) -> Source:
    if b"\0" in data:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    bom = data.startswith(codecs.BOM_UTF8)
    # detect_encoding reads lines split at b"\n" only; old Mac files end lines with b"\r" alone.
    first_lines = iter(re.findall(rb"[^\r\n]*(?:\r\n|\r|\n|$)", data[:4096])[:2])
    try:
        encoding, _ = tokenize.detect_encoding(lambda: next(first_lines, b""))
    except SyntaxError as exc:
        raise SourceError(f"cannot read the encoding declaration: {exc}") from None
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    payload = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        text = payload.decode(encoding)
    except UnicodeDecodeError as exc:
        row = payload.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"not valid {encoding}: byte 0x{payload[exc.start]:02x} at offset {exc.start} cannot be decoded "
            f"(declare the encoding with a `# -*- coding: ... -*-` line)",
            row,
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding declaration") from None
    newline = "\n"
    match = re.search(r"\r\n|\r|\n", text)
    if match:
        newline = match.group()
    return Source(text, encoding, bom, newline)


_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
SKIP_FILE = b"async-lint: skip-file"


def noqa_codes(line: str) -> frozenset[str] | None:
    """None if the line has no noqa; an empty set for a blanket `# noqa`; else the listed codes."""
    if "noqa" not in line.lower():
        return None
    match = _NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset()
    return frozenset(code.upper() for code in _CODE.findall(codes))


def is_suppressed(lines: list[str], row: int, code: str) -> bool:
    if not 0 < row <= len(lines):
        return False
    codes = noqa_codes(lines[row - 1])
    if codes is None:
        return False
    return not codes or any(code == c or code.startswith(c) for c in codes)
