"""Terminal output without importing rich when nothing needs it.

Importing rich costs more than a fully cached run of a small project. Output that goes to a pipe or a file (CI
logs, editors, `| grep`) has no colours, so rich would only strip the markup: `console()` returns a `PlainConsole`
that does that itself, and a rich `Console` only for a terminal (or when FORCE_COLOR / TTY_COMPATIBLE ask for
escape codes). A line that rich would render differently from "markup removed" (control characters, tabs; a
non-string renderable) is handed to a rich console, so the output is the same either way.

Emoji codes are never replaced: `app.py:100:5:` is a location, not `:100:` (rich's default turned it into 💯).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, TextIO

# A markup tag as rich reads it: `[bold red]`, `[/]`, optionally preceded by backslashes.
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_NEEDS_RICH = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # control characters, tabs: not newlines


def escape(text: str) -> str:
    """`text` as literal markup: each tag-like `[...]` gets one more backslash (and the backslashes before it are
    doubled) so that rich, or `strip_markup`, shows it as written."""
    text = _TAG.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        text += "\\"
    return text


def strip_markup(markup: str) -> str:
    """The plain text rich shows for `markup`: tags dropped, escaped tags and backslashes kept literally."""
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        start, end = match.span()
        out.append(markup[position:start])
        backslashes, tag = match.groups()
        pairs, escaped = divmod(len(backslashes), 2)
        out.append("\\" * pairs)
        if escaped:
            out.append(tag)
        position = end
    out.append(markup[position:])
    return "".join(out)


def wants_rich(stream: TextIO, environ: Any = os.environ) -> bool:
    """Whether rich would write escape codes to `stream` (its own test: TTY_COMPATIBLE, FORCE_COLOR, isatty)."""
    tty_compatible = environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    if environ.get("FORCE_COLOR") is not None:
        return environ.get("FORCE_COLOR") != ""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class PlainConsole:
    """The part of rich's Console API the CLI uses (`print`), for a stream that shows no colours."""

    def __init__(self, stderr: bool = False, rich_class: Callable[[], type] | None = None,
                 file: TextIO | None = None) -> None:
        self.stderr = stderr
        self._rich_class = rich_class
        self._rich: Any = None
        self._file = file  # a stream of its own (`--output-file`), else stdout or stderr

    @property
    def file(self) -> TextIO:  # looked up on each print, as rich does (pytest and click swap sys.stdout)
        if self._file is not None:
            return self._file
        return sys.stderr if self.stderr else sys.stdout

    def _fallback(self) -> Any:
        if self._rich is None:
            self._rich = rich_console(self.stderr, self._rich_class, self._file)
        return self._rich

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", markup: bool | None = None,
              highlight: bool | None = None) -> None:
        if not all(isinstance(o, str) for o in objects):
            self._fallback().print(*objects, sep=sep, end=end, markup=markup, highlight=highlight)
            return
        text = sep.join(objects)
        if _NEEDS_RICH.search(text):
            self._fallback().print(*objects, sep=sep, end=end, markup=markup, highlight=highlight)
            return
        self.file.write((text if markup is False else strip_markup(text)) + end)


def rich_console(stderr: bool = False, rich_class: Callable[[], type] | None = None,
                 file: TextIO | None = None) -> Any:
    if rich_class is None:
        from rich.console import Console

        cls: type = Console
    else:
        cls = rich_class()
    if file is not None:  # a file of its own: plain text, no escape codes
        return cls(file=file, highlight=False, soft_wrap=True, emoji=False, color_system=None, force_terminal=False)
    return cls(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


def console(stderr: bool = False, rich_class: Callable[[], type] | None = None) -> Any:
    """A console for stdout (or stderr): rich's for a terminal, else a `PlainConsole`. `rich_class` returns the
    subclass of rich's Console to use; it is called (and rich imported) only when rich is needed."""
    if wants_rich(sys.stderr if stderr else sys.stdout):
        return rich_console(stderr, rich_class)
    return PlainConsole(stderr, rich_class)
