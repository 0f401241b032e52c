"""From a FixSpec to text edits: the imports it needs and the code of each new node, indented where the old
node stands."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState

from async_lint.finding import Edit, FixInfo
from async_lint.fix.spec import FixSpec, ImportNeed
from async_lint.positions import Span
from async_lint.walker import Facts, dotted_name


def _top_level_imports(module: cst.Module) -> list[cst.SimpleStatementLine]:
    out = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], (cst.Import,
                                                                                             cst.ImportFrom)):
            out.append(statement)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            break
    return out


def import_anchor(module: cst.Module) -> cst.CSTNode | None:
    """The statement after which a new import goes: the last top-level import before any def/class; else the
    module docstring; else None (insert before the first statement)."""
    imports = _top_level_imports(module)
    if imports:
        return imports[-1]
    first = module.body[0] if module.body else None
    if (isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))):
        return first
    return None


def _bound_to(facts: Facts, name: str, qualified: str) -> bool:
    bindings = facts.module_scope.bindings.get(name, [])
    return any(kind == "import" and payload == qualified for kind, payload in bindings)


def import_edits(need: ImportNeed, facts: Facts, spans: dict[int, Span], newline: str) -> list[Edit]:
    """The edit that makes `need` available, in the file's own style; none if it is already imported."""
    module = facts.module
    if need.name is None:
        if _bound_to(facts, need.module.split(".")[0], need.module.split(".")[0]) and "." not in need.module:
            return []
        statement = f"import {need.module}"
    else:
        if _bound_to(facts, need.name, f"{need.module}.{need.name}"):
            return []
        for line in _top_level_imports(module):
            node = line.body[0]
            if (isinstance(node, cst.ImportFrom) and not node.relative and dotted_name(node.module) == need.module
                    and not isinstance(node.names, cst.ImportStar) and len(line.body) == 1):
                names = list(node.names)
                last = names[-1]
                names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                names.append(cst.ImportAlias(name=cst.Name(need.name)))
                span = spans.get(id(node))
                if span is None:
                    break
                new = node.with_changes(names=names)
                return [Edit(module.code_for_node(new), span[0], span[1] + 1, span[2], span[3] + 1)]
        statement = f"from {need.module} import {need.name}"
    anchor = import_anchor(module)
    if anchor is None:
        first = module.body[0] if module.body else None
        span = spans.get(id(first)) if first is not None else None
        row = span[0] if span else 1
        return [Edit(statement + newline, row, 1, row, 1)]
    span = spans[id(anchor)]
    return [Edit(statement + newline, span[2] + 1, 1, span[2] + 1, 1)]


def nodes_to_place(module: cst.Module, fix: FixSpec) -> list[cst.CSTNode]:
    """Nodes whose positions the edits of `fix` need."""
    nodes: list[cst.CSTNode] = [old for old, _ in fix.replacements]
    nodes.extend(node for node, _ in fix.insertions)
    if fix.isolate is not None:
        nodes.append(fix.isolate)
    if fix.imports:
        anchor = import_anchor(module)
        nodes.extend(line.body[0] for line in _top_level_imports(module))
        if anchor is not None:
            nodes.append(anchor)
        elif module.body:
            nodes.append(module.body[0])
    return nodes


def _block_indents(original: cst.CSTNode, facts: Facts) -> list[str]:
    """The indentation tokens of the blocks around `original`, outermost first, as codegen keeps them."""
    module = facts.module
    indents = [a.indent if a.indent is not None else module.default_indent
               for a in facts.ancestors(original) if isinstance(a, cst.IndentedBlock)]
    return list(reversed(indents))


def indentation(node: cst.CSTNode, facts: Facts) -> str:
    """The indentation of the line where statement `node` starts."""
    return "".join(_block_indents(node, facts))


def code_in_place(node: cst.CSTNode, original: cst.CSTNode, facts: Facts) -> str:
    """libcst's code for `node` as it will stand where `original` is: indented lines inside brackets follow the
    enclosing blocks' indentation (`module.code_for_node` would generate them at column 0)."""
    module = facts.module
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    state.indent_tokens = _block_indents(original, facts)
    node._codegen(state)
    return "".join(state.tokens)


class _Slicer(CodegenState):
    """Codegen that also records where one node's syntactic range (as `positions.spans` measures it) starts and
    ends in the generated text."""

    __slots__ = ("length", "target", "marks", "starts", "range")

    def __init__(self, default_indent: str, default_newline: str, target: cst.CSTNode):
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.length = 0
        self.target = target
        self.marks: dict[int, tuple[int, int]] = {}  # id(node) -> its range (syntactic when the node has one)
        self.starts: list[int] = []
        self.range: tuple[int, int] | None = None

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append(self.length)

    def after_codegen(self, node: cst.CSTNode) -> None:
        self.marks.setdefault(id(node), (self.starts.pop(), self.length))

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.length += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> Iterator[None]:
        start = self.length
        yield
        end = self.length
        if start_node is not None and id(start_node) in self.marks:
            start = self.marks[id(start_node)][0]
        if end_node is not None and id(end_node) in self.marks:
            end = self.marks[id(end_node)][1]
        self.marks[id(node)] = (start, end)
        if node is self.target:
            self.range = (start, end)


def syntactic_code_in_place(node: cst.CSTNode, original: cst.CSTNode, facts: Facts) -> str:
    """Like `code_in_place`, but only the node's syntactic range: a statement without its leading lines,
    indentation and what ends its last line (which stay in the file, outside the range being replaced)."""
    module = facts.module
    state = _Slicer(module.default_indent, module.default_newline, node)
    state.indent_tokens = _block_indents(original, facts)
    node._codegen(state)
    start, end = state.range or state.marks[id(node)]
    return "".join(state.tokens)[start:end]


def fix_info(fix: FixSpec, facts: Facts, spans: dict[int, Span], newline: str) -> FixInfo:
    edits = []
    for old, new in fix.replacements:
        row, column, end_row, end_column = spans[id(old)]
        if isinstance(old, cst.Asynchronous) and new == "":
            end_column += len(old.whitespace_after.value)  # `async ` goes with the space after it
        if isinstance(new, str):
            content = new
        elif isinstance(old, (cst.BaseStatement, cst.IndentedBlock)):
            content = syntactic_code_in_place(new, old, facts)
        else:
            content = code_in_place(new, old, facts)
        edits.append(Edit(content, row, column + 1, end_row, end_column + 1))
    for node, text in fix.insertions:
        row, column, _end_row, _end_column = spans[id(node)]
        edits.append(Edit(text, row, column + 1, row, column + 1))
    for need in fix.imports:
        for edit in import_edits(need, facts, spans, newline):
            if edit not in edits:
                edits.append(edit)
    isolation = None
    if fix.isolate is not None:
        row, column, end_row, end_column = spans[id(fix.isolate)]
        isolation = (row, column + 1, end_row, end_column + 1)
    return FixInfo(fix.applicability, fix.title, edits, unless_awaited=fix.unless_awaited, isolation=isolation)
