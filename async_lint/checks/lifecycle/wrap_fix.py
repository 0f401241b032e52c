"""AL401/AL402's fix: `name = X(...)` and its uses become `async with X(...) as name:`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from async_lint.checks._util import NESTED_SCOPES, walk
from async_lint.context import FileContext
from async_lint.fix.spec import FixSpec
from async_lint.walker import Scope

if TYPE_CHECKING:
    from async_lint.checks.lifecycle.unclosed import _Closeables, _Usage


def wrap_fix(ctx: FileContext, call: cst.Call, func: Scope, name: str, usage: "_Usage",
             closeables: "_Closeables") -> FixSpec | None:
    """AL401/AL402: `name = X(...)` followed by its uses -> `async with X(...) as name:` (`with` for a sync
    resource) around the rest of the block (unsafe: that code moves into the block, and what it made from the
    resource, such as a response, no longer outlives it).

    Only the simple pattern: a plain assignment alone on its line, in the function's own code (not a lambda,
    not an `async` resource in a sync `def`), the name bound nowhere else, and every other occurrence of the
    name in the statements that follow in the same block, used through its attributes (`client.get(...)`)
    outside nested functions and classes, not closed or entered by hand, and none of its methods or their
    un-awaited results returned or yielded (`return client.stream(...)`)."""
    facts = ctx.facts
    assign = facts.parent_of(call)
    if not (isinstance(assign, cst.Assign) and assign.value is call and len(assign.targets) == 1):
        return None
    target = assign.targets[0].target
    line = facts.parent_of(assign)
    block = facts.parent_of(line)
    if not (isinstance(target, cst.Name) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
            and isinstance(block, cst.IndentedBlock)):
        return None
    function = func.node
    if not isinstance(function, cst.FunctionDef) or (usage.is_async and function.asynchronous is None):
        return None
    if len(func.bindings.get(name, ())) != 1:
        return None
    index = next(i for i, statement in enumerate(block.body) if statement is line)
    rest = block.body[index + 1:]
    if not rest:
        return None
    following = {id(statement) for statement in rest}
    manual = closeables.close_names | closeables.enter_names
    for node in walk(function.body, into_nested=True):
        if not isinstance(node, cst.Name) or node.value != name or node is target:
            continue
        parent = facts.parent_of(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            continue  # `other.client`: not this name
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            continue  # `f(client=...)`: a keyword, not this name
        if not (isinstance(parent, cst.Attribute) and parent.value is node) or parent.attr.value in manual:
            return None
        if _handed_out(facts, parent):
            return None
        if not _inside_following(facts, node, block, following):
            return None
    item = cst.WithItem(item=call, asname=cst.AsName(name=cst.Name(name)))
    body = cst.IndentedBlock(body=list(rest), header=line.trailing_whitespace, indent=block.indent)
    wrapped = cst.With(items=[item], body=body, leading_lines=line.leading_lines,
                       asynchronous=cst.Asynchronous() if usage.is_async else None)
    new_block = block.with_changes(body=[*block.body[:index], wrapped])
    return FixSpec(f"Wrap the code that uses `{name}` in `{usage.with_} ... as {name}:`", "unsafe",
                   replacements=[(block, new_block)])


def _inside_following(facts: Any, node: cst.CSTNode, block: cst.IndentedBlock, following: set[int]) -> bool:
    """Is `node` inside one of the statements `following` of `block`, outside nested functions and classes?"""
    child: cst.CSTNode = node
    for ancestor in facts.ancestors(node):
        if ancestor is block:
            return id(child) in following
        if isinstance(ancestor, NESTED_SCOPES):
            return False
        child = ancestor
    return False


def _handed_out(facts: Any, attribute: cst.Attribute) -> bool:
    """`return client.stream(...)`, `yield client.get`: what is returned or yielded is the resource's method or
    the un-awaited result of calling it, which needs the resource after the block closes it."""
    parent = facts.parent_of(attribute)
    if isinstance(parent, cst.Call) and parent.func is attribute:
        parent = facts.parent_of(parent)
    if isinstance(parent, cst.From):
        parent = facts.parent_of(parent)
    return isinstance(parent, (cst.Return, cst.Yield))
