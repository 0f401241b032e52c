"""AL304: connections with no timeout unless given one (stdlib sockets, Redis, `asyncio.open_connection`).

Driven by the catalog's `[[unbounded-connections]]` table: each entry names the calls, the argument that bounds
the wait (keyword and positional place) or `wrapped = true` for calls that take none and must run under a
deadline (`[[timeout-wrappers]]`).
"""

from __future__ import annotations

from typing import Any, Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, has_star_kwargs, is_none, keyword, positional, table, tail
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.walker import Scope, dotted_name, short_name


class _Wrappers:
    """The `[[timeout-wrappers]]` table: what puts a deadline on the code inside it."""

    def __init__(self, ctx: FileContext):
        self.contexts: set[str] = set()
        self.functions: set[str] = set()
        self.names: set[str] = set()
        for entry in table(ctx, "timeout-wrappers"):
            self.contexts.update(entry.get("contexts", ()))
            self.functions.update(entry.get("functions", ()))
            self.names.update(entry.get("names", ()))

    def names_deadline(self, ctx: FileContext, call: cst.Call, scope: Scope, functions: bool) -> bool:
        callee = ctx.callee(call, scope) or dotted_name(call.func)
        if callee is None:
            return False
        known = self.functions if functions else self.contexts
        return callee in known or tail(callee) in self.names


def under_deadline(ctx: FileContext, node: cst.CSTNode, scope: Scope, wrappers: _Wrappers) -> bool:
    """`node` is passed to `asyncio.wait_for(...)` or sits in a `with asyncio.timeout(...)` block of its own
    function."""
    facts = ctx.facts
    previous: cst.CSTNode = node
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, NESTED_SCOPES):
            return False
        if isinstance(ancestor, cst.Arg):
            outer = facts.parent_of(ancestor)
            if isinstance(outer, cst.Call) and wrappers.names_deadline(ctx, outer, scope, functions=True):
                return True
        if isinstance(ancestor, cst.With) and previous is ancestor.body:
            for item in ancestor.items:
                if isinstance(item.item, cst.Call) and wrappers.names_deadline(ctx, item.item, scope, functions=False):
                    return True
        previous = ancestor
    return False


def _callers_under_deadline(ctx: FileContext, scope: Scope, wrappers: _Wrappers) -> bool:
    """The function holding the call is called in this file, and every such call runs under a deadline
    (`await asyncio.wait_for(self._connect(), 5)`)."""
    function = scope.function
    if function is None or not isinstance(function.node, cst.FunctionDef):
        return False
    name = function.node.name.value
    seen = 0
    for call, where in ctx.facts.calls:
        if short_name(call.func) != name:
            continue
        if not under_deadline(ctx, call, where, wrappers):
            return False
        seen += 1
    return seen > 0


def _sets_socket_default(ctx: FileContext) -> bool:
    """The file calls `socket.setdefaulttimeout(<not None>)`: stdlib clients there get that bound."""
    for call, scope in ctx.facts.calls:
        if ctx.callee(call, scope) == "socket.setdefaulttimeout":
            args = positional(call)
            if not args or not is_none(args[0].value):
                return True
    return False


def _url_carries(call: cst.Call, name: str) -> bool:
    args = positional(call)
    value = args[0].value if args else (keyword(call, "url").value if keyword(call, "url") is not None else None)
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        text = value.evaluated_value if isinstance(value, cst.SimpleString) else None
        if text is None:  # f-strings and concatenations: look at their literal parts
            text = "".join(part.value for part in _string_parts(value))
        return f"{name}=" in text
    return False


def _string_parts(node: cst.CSTNode) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.SimpleString, cst.FormattedStringText)):
            yield current
            continue
        if isinstance(current, cst.ConcatenatedString):
            stack.extend([current.left, current.right])
        elif isinstance(current, cst.FormattedString):
            stack.extend(current.parts)


class UnboundedConnections(Rule):
    codes = ("AL304",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        calls = ctx.catalog.pattern_table("unbounded-connections")
        if not calls.exact and not calls.patterns:
            return
        wrappers = _Wrappers(ctx)
        socket_default: bool | None = None
        for call, scope in ctx.facts.calls:
            callee = ctx.callee(call, scope)
            if callee is None:
                continue
            entry = calls.get(callee)
            if entry is None:
                canonical = ctx.catalog.canonical_type(callee)
                entry = calls.get(canonical) if canonical is not None else None
            if entry is None or has_star_kwargs(call):
                continue
            shown = dotted_name(call.func) or callee
            if entry.get("wrapped"):
                if any(keyword(call, other) is not None for other in entry.get("unless-keywords", ())):
                    continue
                if isinstance(ctx.facts.parent_of(call), cst.Await):
                    node: cst.CSTNode = ctx.facts.parent_of(call)  # type: ignore[assignment]
                else:
                    node = call
                if under_deadline(ctx, node, scope, wrappers) or _callers_under_deadline(ctx, scope, wrappers):
                    continue
                yield Report(
                    "AL304", call, f"`{shown}()` runs without a timeout around it: {entry['why']}",
                    f"wrap it: `async with asyncio.timeout(<seconds>):` (or `await asyncio.wait_for({shown}(...), "
                    f"<seconds>)`)",
                )
                continue
            if self._bounded(call, entry):
                continue
            if entry.get("socket-default"):
                if socket_default is None:
                    socket_default = _sets_socket_default(ctx)
                if socket_default:
                    continue
            name = entry["keyword"]
            suggestion = f"pass `{name}=<seconds>`"
            if name == "socket_timeout":
                suggestion += " (and `socket_connect_timeout=<seconds>` for the connect)"
            if keyword(call, name) is not None:  # `timeout=None`
                message = f"`{shown}({name}=None)` waits forever for a server that stops answering"
            else:
                message = f"`{shown}()` has no `{name}`: {entry['why']}"
            yield Report("AL304", call, message, suggestion)

    @staticmethod
    def _bounded(call: cst.Call, entry: dict[str, Any]) -> bool:
        name = entry["keyword"]
        given = keyword(call, name)
        if given is None:
            position = entry.get("position")
            args = positional(call)
            if position is not None and len(args) > position:
                given = args[position]
            elif any(arg.star == "*" for arg in call.args):
                return True  # `*args` may carry it
        if given is not None:
            return not is_none(given.value)  # `timeout=None` is no bound
        if any(keyword(call, other) is not None for other in entry.get("unless-keywords", ())):
            return True
        return bool(entry.get("url-query")) and _url_carries(call, name)
