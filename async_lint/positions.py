"""Line and column of a few nodes, without libcst's PositionProvider.

PositionProvider records a range for every node of the module (measured: twice the cost of parsing). We need
positions only for the handful of nodes a check reports, so this codegen state tracks the cursor and records
ranges only for those nodes: about a plain `module.code`, a fifth of the parse. It stops as soon as the last
requested node is placed.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import ContextManager, Iterable, Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState

# (start line 1-based, start column 0-based, end line, end column)
Span = tuple[int, int, int, int]


_NOTHING = nullcontext()


class _AllPlaced(Exception):
    """Every requested node has its range: the rest of the module need not be generated."""


class _Cursor(CodegenState):
    __slots__ = ("line", "column", "targets", "starts", "spans", "wanted", "left")

    def __init__(self, module: cst.Module, targets: set[int]):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.targets = targets
        self.starts: dict[int, list[tuple[int, int]]] = {}
        self.spans: dict[int, Span] = {}
        self.wanted = set(targets)  # the requested nodes (targets also gains their start/end nodes)
        self.left = len(self.wanted)

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            self.line += len(lines) - 1
            self.column = len(lines[-1])
        else:
            self.column += len(value)

    def add_token(self, value: str) -> None:  # `_advance`, inlined for the common token on one line
        if "\n" in value or "\r" in value:
            self._advance(value)
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._advance(token)

    def pop_trailing_newline(self) -> None:
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            self.starts.setdefault(key, []).append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            line, column = self.starts[key].pop()
            self.spans.setdefault(key, (line, column, self.line, self.column))
            if key in self.wanted:
                self.wanted.discard(key)
                self.left -= 1
                if not self.left:
                    raise _AllPlaced

    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> ContextManager[None]:
        # Asked for most nodes of the module: one shared no-op context unless the node is a target (a
        # generator-based context manager per node cost a fifth of the codegen pass).
        if id(node) not in self.targets:
            return _NOTHING
        return self._record(node, start_node, end_node)

    @contextmanager
    def _record(self, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
                ) -> Iterator[None]:
        key = id(node)
        if end_node is not None:
            self.targets.add(id(end_node))
        if start_node is not None:
            self.targets.add(id(start_node))
        start = (self.line, self.column)
        yield
        end = (self.line, self.column)
        if start_node is not None and id(start_node) in self.spans:
            start = self.spans[id(start_node)][:2]
        if end_node is not None and id(end_node) in self.spans:
            end = self.spans[id(end_node)][2:]
        self.spans[key] = (*start, *end)


def spans(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Syntactic ranges (as PositionProvider gives them) of `nodes`, keyed by id(node)."""
    targets = {id(node) for node in nodes}
    if not targets:
        return {}
    cursor = _Cursor(module, targets)
    try:
        module._codegen(cursor)
    except _AllPlaced:  # the code after the last requested node moves no position before it
        pass
    return cursor.spans
