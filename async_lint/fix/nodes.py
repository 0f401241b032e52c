"""Node builders for fixes: await / to_thread wrappers, keyword arguments added or removed, and how to spell
a qualified name in a file (with the import it needs)."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from async_lint.fix.spec import ImportNeed
from async_lint.walker import Facts


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

