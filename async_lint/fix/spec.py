"""What a rule proposes as a fix: libcst node replacements, insertions and the imports they need."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst


@dataclass
class ImportNeed:
    """`import module` (name None) or `from module import name`."""

    module: str
    name: str | None = None


@dataclass
class FixSpec:
    title: str
    applicability: str  # "safe" | "unsafe"
    replacements: list[tuple[cst.CSTNode, cst.CSTNode | str]] = field(default_factory=list)  # str: raw code
    imports: list[ImportNeed] = field(default_factory=list)
    # Set by rules whose fix is valid only if the project never awaits this function (drop `async`).
    unless_awaited: str | None = None
    # A node no other fix of the same round may touch (dropping `async` conflicts with any edit in the body).
    isolate: cst.CSTNode | None = None
    # Raw text inserted where a node starts (a decorator above a function's first decorator or its `def`).
    insertions: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
