"""Fixes: what a rule proposes (a FixSpec of libcst node replacements plus imports), turned into text edits.

Edits are ranges of the original text with new content (ruff's shape). Applying them is plain text surgery, so
every byte outside the edited ranges stays as it was: comments, formatting, encoding, line endings. Each
replacement's content is libcst's code for the new node, built from the old node's own subtrees.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

from async_lint.checks._util import is_path_operation
from async_lint.finding import Edit, FixInfo
from async_lint.positions import Span
from async_lint.walker import Facts, dotted_name

_NEWLINE = re.compile(r"\r\n|\r|\n")


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


# ------------------------------------------------------------------------------------------- node builders


def parenthesize(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def needs_parens(node: cst.CSTNode, facts: Facts) -> bool:
    """Does `await <node>` need parentheses where `node` stands (`(await f()).attr`, `(await f())[0]`)?"""
    parent = facts.parent_of(node)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return True
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return True
    if isinstance(parent, cst.Call) and parent.func is node:
        return True
    if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Power) and parent.left is node:
        return True
    return False


def in_generator_expression(node: cst.CSTNode, facts: Facts) -> bool:
    """`await` inside a generator expression turns it into an async generator: no fix there."""
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, cst.GeneratorExp):
            return True
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return False
    return False


def awaited(expr: cst.BaseExpression, original: cst.CSTNode, facts: Facts) -> cst.BaseExpression:
    """`await expr`, placed where `original` stands (parenthesised if the context needs it)."""
    inner = expr.with_changes(lpar=[], rpar=[]) if isinstance(expr, cst.Call) else expr
    node: cst.BaseExpression = cst.Await(expression=inner)
    if getattr(original, "lpar", None):
        node = node.with_changes(lpar=original.lpar, rpar=original.rpar)
    elif needs_parens(original, facts):
        node = parenthesize(node)
    return node


def to_thread(call: cst.Call, facts: Facts) -> cst.BaseExpression:
    """`f(a, b=c)` -> `await asyncio.to_thread(f, a, b=c)`."""
    func_arg = cst.Arg(value=call.func.with_changes(lpar=[], rpar=[]) if isinstance(call.func, cst.Name)
                       else call.func)
    args = [func_arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    args.extend(call.args)
    if len(args) > 1:
        # One argument per line stays one per line: the function goes on its own line like the rest.
        after = (call.whitespace_before_args if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace)
                 else cst.SimpleWhitespace(" "))
        args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=after))
    threaded = cst.Call(func=cst.parse_expression("asyncio.to_thread"), args=args,
                        whitespace_before_args=call.whitespace_before_args)
    return awaited(threaded, call, facts)


def spread_call(outer: cst.Call, index: int, inner: cst.Call) -> cst.Call:
    """`taker(x, f(a, b=c), y)` -> `taker(x, f, a, b=c, y)`: the inner call's function and arguments spliced
    in place of argument `index`."""
    args = list(outer.args)
    comma = args[index].comma
    spliced = [cst.Arg(value=inner.func, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
    inner_args = list(inner.args)
    for i, arg in enumerate(inner_args):
        last = i == len(inner_args) - 1
        spliced.append(arg.with_changes(comma=comma if last else (
            arg.comma if arg.comma is not cst.MaybeSentinel.DEFAULT else
            cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))))
    if not inner_args:
        spliced[0] = spliced[0].with_changes(comma=comma)
    args[index: index + 1] = spliced
    return outer.with_changes(args=args)


def _separator(args: Sequence[cst.Arg], call: cst.Call, index: int) -> cst.BaseParenthesizableWhitespace:
    """The whitespace before argument `index`: after the previous argument's comma, or after `(`."""
    if index == 0:
        return call.whitespace_before_args
    comma = args[index - 1].comma
    return comma.whitespace_after if isinstance(comma, cst.Comma) else cst.SimpleWhitespace(" ")


def _line_break(whitespace: cst.BaseParenthesizableWhitespace, after: cst.BaseParenthesizableWhitespace,
                keep_comment: bool = True) -> cst.BaseParenthesizableWhitespace:
    """A line break that ends the current line like `whitespace` (its comment, when kept) and starts the next one
    indented like `after` (a ParenthesizedWhitespace: the layout of one argument per line)."""
    assert isinstance(after, cst.ParenthesizedWhitespace)
    first = whitespace.first_line if isinstance(whitespace, cst.ParenthesizedWhitespace) and keep_comment \
        else cst.TrailingWhitespace()
    return cst.ParenthesizedWhitespace(first_line=first, empty_lines=[], indent=after.indent,
                                       last_line=after.last_line)


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call | None:
    """`f(a, b)` -> `f(a, b, name=value)`, in the call's layout: inline stays inline; one argument per line gets
    one more line, before the closing parenthesis, keeping every comment where it was. None when a keyword cannot
    follow (an unparenthesised generator argument)."""
    args = list(call.args)
    if any(isinstance(a.value, cst.GeneratorExp) and not a.value.lpar for a in args):
        return None
    new = cst.Arg(keyword=cst.Name(name), value=value, equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    before = _separator(args, call, len(args) - 1)
    if isinstance(before, cst.ParenthesizedWhitespace):
        # One argument per line: the new one goes on its own line, indented like the last one.
        if isinstance(last.comma, cst.Comma):
            end = last.comma.whitespace_after  # what leads to `)` (a trailing comma: `a,\n)`)
            comma = last.comma.with_changes(whitespace_after=_line_break(end, before))
            new = new.with_changes(comma=last.comma.with_changes(whitespace_after=_without_first_comment(end)),
                                   whitespace_after_arg=last.whitespace_after_arg)
        else:
            end = last.whitespace_after_arg  # `a\n)` or `a)`
            comma = cst.Comma(whitespace_after=_line_break(end, before))
            new = new.with_changes(whitespace_after_arg=_without_first_comment(end))
        args[-1] = last.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
    else:
        space = cst.SimpleWhitespace(" ")
        if isinstance(last.comma, cst.Comma):  # `f(a,)`: keep the trailing comma after the new argument
            new = new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=space),
                                         whitespace_after_arg=cst.SimpleWhitespace(""))
        else:
            new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=space),
                                         whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new)
    return call.with_changes(args=args)


def _without_first_comment(whitespace: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    """The same whitespace without the comment that ends its first line (that comment stays where it was)."""
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=cst.TrailingWhitespace(newline=whitespace.first_line.newline))
    return whitespace


def _has_comment(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    return isinstance(whitespace, cst.ParenthesizedWhitespace) and (
        whitespace.first_line.comment is not None or any(line.comment for line in whitespace.empty_lines))


def remove_arg(call: cst.Call, index: int) -> cst.Call:
    """`f(a, b, c)` without argument `index`, commas and layout adjusted. A comment on the removed argument's own
    line goes with it; comment lines between arguments and the comments of the other arguments stay."""
    args = list(call.args)
    removed = args.pop(index)
    before = _separator(call.args, call, index)
    after = removed.comma.whitespace_after if isinstance(removed.comma, cst.Comma) else removed.whitespace_after_arg
    last = index == len(args)
    if isinstance(after, cst.ParenthesizedWhitespace):
        # Keep what ended the line before the removed argument, and what starts the next line.
        first = before.first_line if isinstance(before, cst.ParenthesizedWhitespace) else cst.TrailingWhitespace()
        lines = list(before.empty_lines) if isinstance(before, cst.ParenthesizedWhitespace) else []
        joined: cst.BaseParenthesizableWhitespace = after.with_changes(
            first_line=first, empty_lines=[*lines, *after.empty_lines])
    elif last and not _has_comment(before):
        joined = after  # `f(a, b)` -> `f(a)`: what led to `)` still does
    else:
        joined = before
    if not args:
        return call.with_changes(args=[], whitespace_before_args=joined if _has_comment(joined)
                                 else cst.SimpleWhitespace(""))
    if index == 0:
        return call.with_changes(args=args, whitespace_before_args=joined)
    previous = args[index - 1]
    comma = previous.comma if isinstance(previous.comma, cst.Comma) else cst.Comma()
    if last and not isinstance(joined, cst.ParenthesizedWhitespace) and not _has_comment(before):
        # The removed argument was the last on the line of `)`: its trailing comma (if any) moves back.
        args[index - 1] = previous.with_changes(comma=removed.comma, whitespace_after_arg=removed.whitespace_after_arg)
    else:
        args[index - 1] = previous.with_changes(comma=comma.with_changes(whitespace_after=joined))
    return call.with_changes(args=args)


def local_name(facts: Facts, qualified: str) -> str | None:
    """The module-level name an import binds to `qualified` (`ClientTimeout`, an alias, `aiohttp` for a module),
    preferring the name itself over an alias; None when nothing is imported under that name."""
    tail = qualified.rsplit(".", 1)[-1]
    found = [name for name, bindings in facts.module_scope.bindings.items()
             if ("import", qualified) in bindings]
    if not found:
        return None
    return tail if tail in found else sorted(found)[0]


def name_taken(facts: Facts, name: str, qualified: str) -> bool:
    """Is `name` bound at module level to anything but an import of `qualified`?"""
    return any(binding != ("import", qualified) for binding in facts.module_scope.bindings.get(name, ()))


def spelled(facts: Facts, qualified: str, import_name: bool = False) -> tuple[str, list[ImportNeed]] | None:
    """How to write `module.Name` in this file, with the import it needs: `Name` when imported by name (or
    an alias), else `m.Name` through an existing `import module [as m]`, else a new import: `import module`
    and `module.Name`, or with `import_name` `from module import Name` (an existing `from module import ...`
    extended) and `Name`. None when that would clash with a name the file already uses."""
    module, name = qualified.rsplit(".", 1)
    direct = local_name(facts, qualified)
    if direct is not None:
        return direct, []
    alias = local_name(facts, module)
    if alias is not None:
        return f"{alias}.{name}", []
    if import_name:
        return (None if name_taken(facts, name, qualified) else (name, [ImportNeed(module, name)]))
    head = module.split(".", 1)[0]
    if name_taken(facts, head, head):
        return None
    return qualified, [ImportNeed(module)]


def indentation(node: cst.CSTNode, facts: Facts) -> str:
    """The indentation of the line where statement `node` starts."""
    return "".join(_block_indents(node, facts))


# ------------------------------------------------------------------------------------------- imports


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


# ------------------------------------------------------------------------------------------- applying


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


# ------------------------------------------------------------------------------------------- shared fixes

def dependency_names(ctx) -> set[str]:
    """Names passed to `Depends(...)` / `Security(...)` in this file (FastAPI dependencies)."""
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    if "depends" not in cache:
        names = set()
        for call, scope in ctx.facts.calls:
            name = dotted_name(call.func)
            if name and name.rsplit(".", 1)[-1] in ("Depends", "Security") and call.args:
                target = dotted_name(call.args[0].value)
                if target:
                    names.add(target.rsplit(".", 1)[-1])
        cache["depends"] = names
    return cache["depends"]


def awaited_names(ctx) -> set[str]:
    """Short names of functions awaited somewhere in this file."""
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    if "awaited" not in cache:
        names = set()
        for call, _scope in ctx.facts.calls:
            if isinstance(ctx.facts.parent_of(call), cst.Await):
                name = dotted_name(call.func)
                if name:
                    names.add(name.rsplit(".", 1)[-1])
        cache["awaited"] = names
    return cache["awaited"]


def drop_async_fix(scope, ctx) -> FixSpec | None:
    """Make a path operation or dependency that never awaits a sync `def`: FastAPI then runs it in its thread
    pool, where blocking is fine. Not when anything awaits it."""
    if not scope.in_async_function or scope.has_await or scope.has_yield:
        return None
    node = scope.node
    name = node.name.value
    if not (is_path_operation(node) or name in dependency_names(ctx)) or name in awaited_names(ctx):
        return None
    return FixSpec(
        f"Make `{name}` a sync `def` so FastAPI runs it in its thread pool",
        "unsafe",
        replacements=[(node.asynchronous, "")],
        unless_awaited=name,
        isolate=node,
    )
