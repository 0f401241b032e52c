"""What a check reports, before and after it is placed in the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # this module is imported by cache hits, which must not pay for importing libcst
    import libcst as cst

    from async_lint.index import Deferred, ModuleSummary


@dataclass
class Report:
    """A rule's verdict on one node; the engine turns it into a Finding once positions are known."""

    code: str
    node: "cst.CSTNode"
    message: str
    suggestion: str | None = None
    fix: Any = None  # async_lint.fix.spec.FixSpec, attached by rules that can fix
    # (kind, target): the finding stands only if the project index confirms it, see async_lint.index.Deferred
    defer: tuple[str, str] | None = None
    deferred_fix: str | None = None  # for deferred reports: the name of a fix builder in checks.DEFERRED_FIXES
    # AL101-AL107: dropped by the project pass when only code that serves nothing awaits this function
    unless_cli_only: str | None = None


@dataclass
class Edit:
    content: str
    row: int
    column: int
    end_row: int
    end_column: int


@dataclass
class FixInfo:
    """The serialisable description of a fix (what the outputs show)."""

    applicability: str  # "safe" | "unsafe"
    message: str
    edits: list[Edit] = field(default_factory=list)
    unless_awaited: str | None = None  # dropped when the project awaits this function somewhere
    isolation: tuple[int, int, int, int] | None = None  # range no other fix may touch in the same round


@dataclass
class Finding:
    code: str
    message: str
    path: str
    row: int  # 1-based
    column: int  # 1-based, like ruff
    end_row: int
    end_column: int
    suggestion: str | None = None
    fix: FixInfo | None = None
    noqa_row: int | None = None
    show_frame: bool = True
    # AL101-AL107: the enclosing `async def`'s name; the project pass drops the finding when only code that
    # serves nothing (CLI commands, start-up code) awaits it (async_lint/checks/callers.py)
    unless_cli_only: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.row, self.column, self.code)


@dataclass
class FileResult:
    """What linting one file produced; plain data, cached by content."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)  # code -> findings silenced by noqa
    silenced: list[tuple[int, str]] = field(default_factory=list)  # (row, code) of each of them: AL003
    parsed: bool = False
    internal_errors: int = 0
    summary: "ModuleSummary | None" = None  # this module's entry in the project index
    deferred: "list[Deferred]" = field(default_factory=list)  # findings the project index must confirm
    warnings: list[str] = field(default_factory=list)  # said on stderr, not findings (a skipped huge file)
    # For a file the pre-filter skipped: the names it calls and the words of its import lines, so the project
    # pass can tell (from the cache, without reading it) whether it calls a project coroutine.
    words: tuple[frozenset[bytes], frozenset[bytes]] | None = None


def error_result(
    path: str, code: str, message: str, row: int = 1, column: int = 1, frame: bool = False
) -> FileResult:
    """A file-level problem; `frame` says whether a code frame at `row` helps the reader."""
    finding = Finding(code, message, path, row, column, row, column, noqa_row=None, show_frame=frame)
    return FileResult(path, [finding])
