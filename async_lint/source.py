"""Reading a file's bytes into text the way Python would (BOM, PEP 263 cookie), and its `# noqa` comments."""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
import tokenize
from dataclasses import dataclass


class SourceError(Exception):
    """A file that cannot be read or decoded; the message names the problem, the row where it is (or 1)."""

    def __init__(self, message: str, row: int = 1, column: int = 1):
        super().__init__(message)
        self.row = row
        self.column = column


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))


def kind_of(mode: int) -> str:
    """What a non-regular file is, for messages: "a FIFO", "a socket", ..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


class NotRegularFile(OSError):
    """A path that is not a regular file (FIFO, socket, device): never read, it could block the run."""

    def __init__(self, path: str, mode: int):
        super().__init__(errno.EINVAL, f"not a regular file ({kind_of(mode)})", path)


def read_file(path: str) -> bytes:
    """A regular file's bytes. The file is opened without blocking (a FIFO would wait for a writer forever) and
    checked on the open descriptor, so a file swapped for a FIFO after discovery cannot block either. Raises
    OSError, with `NotRegularFile` for anything but a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, st.st_mode)
        chunks = []
        while True:
            chunk = os.read(fd, max(st.st_size + 1, 65536))
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_problem(path: str, exc: OSError) -> str:
    """The AL001 message for a file that could not be read."""
    if exc.errno == errno.ELOOP:
        return "symlink loop: the symlink points back to itself (directly or through other symlinks)"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return "broken symlink: the file it points to does not exist"
    if isinstance(exc, NotRegularFile):
        return f"{exc.strerror}: only regular files are read"
    return f"cannot read file: {exc.strerror or exc}"


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


def syntax_error(text: str, path: str) -> SourceError | None:
    """Whether Python can parse `text`, for files the byte pre-filter keeps from libcst: a file that is linted
    and cannot be parsed is always reported (AL001), as ruff and flake8 do. The symbol table is the cheapest
    public full parse (no AST objects, no bytecode): 1.0-1.4% of a cold run on the FastAPI apps of the corpus."""
    import symtable
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes and the like
            symtable.symtable(text, path, "exec")
    except SyntaxError as exc:
        return SourceError(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1)
    except (ValueError, RecursionError, MemoryError) as exc:
        return SourceError(f"cannot parse: {type(exc).__name__} (too deeply nested?)")
    return None


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
