"""Fixes: what a rule proposes (a FixSpec of libcst node replacements plus imports), turned into text edits.

Edits are ranges of the original text with new content (ruff's shape). Applying them is plain text surgery, so
every byte outside the edited ranges stays as it was: comments, formatting, encoding, line endings. Each
replacement's content is libcst's code for the new node, built from the old node's own subtrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

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


def code_in_place(node: cst.CSTNode, original: cst.CSTNode, facts: Facts) -> str:
    """libcst's code for `node` as it will stand where `original` is: indented lines inside brackets follow the
    enclosing blocks' indentation (`module.code_for_node` would generate them at column 0)."""
    module = facts.module
    indents = [a.indent if a.indent is not None else module.default_indent
               for a in facts.ancestors(original) if isinstance(a, cst.IndentedBlock)]
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    state.indent_tokens = list(reversed(indents))
    node._codegen(state)
    return "".join(state.tokens)


def fix_info(fix: FixSpec, facts: Facts, spans: dict[int, Span], newline: str) -> FixInfo:
    module = facts.module
    edits = []
    for old, new in fix.replacements:
        row, column, end_row, end_column = spans[id(old)]
        if isinstance(old, cst.Asynchronous) and new == "":
            end_column += len(old.whitespace_after.value)  # `async ` goes with the space after it
        content = new if isinstance(new, str) else code_in_place(new, old, facts)
        edits.append(Edit(content, row, column + 1, end_row, end_column + 1))
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

_ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route"}


def is_path_operation(node: cst.FunctionDef) -> bool:
    """`@app.get(...)`, `@router.post(...)`, `@app.api_route(...)` (websockets excluded: they must stay async)."""
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _ROUTE_METHODS:
            return True
    return False


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
