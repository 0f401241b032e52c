"""AL601: a `while True:` websocket receive loop with no `WebSocketDisconnect` handler around it.

AL602: `await ws.send_*()` in a `for` loop over connections (the receiver names the loop variable) with no
`try`/`except` (or `contextlib.suppress`) around the send inside the loop: the first dead connection raises and the
rest get nothing. `send()` counts only when the names involved look like connections (the catalog's name hints).
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, handler_type_names, in_try_body, keyword, positional, \
    qualified, route_decorator, table, table_names, tail, walk
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.walker import dotted_name

ENDPOINTS_KEY = "websocket-endpoints"


def _is_true(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "True") or (
        isinstance(test, cst.Integer) and test.value == "1")


def _may_catch(name: str, catches: frozenset[str]) -> bool:
    """`WebSocketDisconnect` or a base, a project's own `...Disconnect...` class, or a constant tuple of exception
    classes (`NORMAL_DISCONNECT_EXCEPTIONS`) whose members we cannot see."""
    return name in catches or "Disconnect" in name or (name.isupper() and len(name) > 1)


class WebsocketDisconnect(Rule):
    codes = ("AL601",)

    def _registered(self, ctx: FileContext) -> set[str]:
        registrations = table_names(ctx, "websocket-routes", "registrations")
        position = next((e.get("endpoint-position", 1) for e in table(ctx, "websocket-routes")), 1)
        names: set[str] = set()
        for call, _ in ctx.facts.calls:
            if tail(dotted_name(call.func)) not in registrations:
                continue
            arg = keyword(call, "endpoint")
            args = positional(call)
            if arg is None and len(args) > position:
                arg = args[position]
            text = dotted_name(arg.value) if arg is not None else None
            if text:
                names.add(tail(text))
        return names

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        return {ENDPOINTS_KEY: self._registered(ctx)}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        decorators = table_names(ctx, "websocket-routes", "decorators")
        receives = table_names(ctx, "websocket-routes", "receive-methods")
        catches = table_names(ctx, "websocket-routes", "catches")
        registered: set[str] | None = None
        routes: dict[int, bool] = {}
        reported: set[int] = set()
        for call, scope in ctx.facts.calls:
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value in receives):
                continue
            if not isinstance(ctx.facts.parent_of(call), cst.Await):
                continue
            owner = scope.function
            if owner is None or not isinstance(owner.node, cst.FunctionDef) or not owner.is_async:
                continue
            key = id(owner.node)
            if key not in routes:
                is_route = any(route_decorator(d, decorators) is not None for d in owner.node.decorators)
                if not is_route:
                    if registered is None:
                        registered = ctx.shared(ENDPOINTS_KEY)
                    is_route = owner.name in registered
                routes[key] = is_route
            if not routes[key]:
                continue
            loop = None
            for ancestor in ctx.facts.ancestors(call):
                if ancestor is owner.node or isinstance(ancestor, NESTED_SCOPES):
                    break
                if isinstance(ancestor, cst.While) and _is_true(ancestor.test):
                    loop = ancestor
                    break
            if loop is None or id(loop) in reported:
                continue
            if self._handled(ctx, call, owner, catches):
                continue
            reported.add(id(loop))
            yield Report(
                "AL601", loop,
                f"this `while True:` loop awaits `{dotted_name(func) or func.attr.value}()` in websocket route "
                f"`{owner.name}` with no `except WebSocketDisconnect`: every client disconnect ends in a traceback "
                f"and the code after the loop never runs",
                "wrap the loop in `try: ... except WebSocketDisconnect:` and clean up the connection there",
            )

    @staticmethod
    def _handled(ctx: FileContext, call: cst.Call, owner, catches: frozenset[str]) -> bool:
        for try_node in in_try_body(ctx.facts, call, owner.node):
            for handler in try_node.handlers:
                names = handler_type_names(ctx, handler, owner)
                if names is None or any(_may_catch(tail(n), catches) for n in names if n):
                    return True
        return False


# ---------------------------------------------------------------------------------------------------- AL602


def _names_in(node: cst.CSTNode) -> set[str]:
    """Names a target or receiver expression reads (`conn.ws` reads `conn`, `clients[uid]` reads both)."""
    nodes = list(walk(node))
    attrs = {id(n.attr) for n in nodes if isinstance(n, cst.Attribute)}
    return {n.value for n in nodes if isinstance(n, cst.Name) and id(n) not in attrs}


def _suppressing(ctx: FileContext, node: cst.CSTNode, stop: cst.CSTNode, scope) -> bool:
    """Inside `with contextlib.suppress(...)` below `stop`."""
    for ancestor in ctx.facts.ancestors(node):
        if ancestor is stop:
            return False
        if isinstance(ancestor, cst.With):
            for item in ancestor.items:
                expr = item.item
                if isinstance(expr, cst.Call) and tail(qualified(ctx, expr.func, scope)) == "suppress":
                    return True
    return False


class WebsocketBroadcast(Rule):
    codes = ("AL602",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        methods = table_names(ctx, "websocket-broadcast", "send-methods")
        generic = table_names(ctx, "websocket-broadcast", "generic-send-methods")
        hints = tuple(table_names(ctx, "websocket-broadcast", "name-hints"))
        reported: set[int] = set()
        for call, scope in ctx.facts.calls:
            func = call.func
            if not (scope.in_async_function and isinstance(func, cst.Attribute)
                    and func.attr.value in methods | generic):
                continue
            owner = scope.function
            awaited = False
            loop = None
            for ancestor in ctx.facts.ancestors(call):
                if ancestor is owner.node or isinstance(ancestor, NESTED_SCOPES):
                    break
                if isinstance(ancestor, cst.Await):
                    awaited = True
                if isinstance(ancestor, cst.For) and awaited:
                    if _names_in(ancestor.target) & _names_in(func.value):
                        loop = ancestor
                        break
                if isinstance(ancestor, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
                    break
            if loop is None or id(loop) in reported:
                continue
            if func.attr.value in generic:
                words = _names_in(loop.target) | _names_in(loop.iter) | _names_in(func.value)
                words |= {n.attr.value for n in walk(loop.iter) if isinstance(n, cst.Attribute)}
                parts = {part for word in words for part in word.lower().split("_")}
                if not any(part.startswith(hints) for part in parts):
                    continue
            if any(try_node.handlers for try_node in in_try_body(ctx.facts, call, loop)):
                continue
            if _suppressing(ctx, call, loop, scope):
                continue
            reported.add(id(loop))
            shown = dotted_name(func) or ctx.module.code_for_node(func)
            if len(shown) > 60:
                shown = func.attr.value
            yield Report(
                "AL602", call,
                f"`{shown}()` awaited in a loop over connections with no error handling per connection: one closed "
                f"or dead websocket raises here and aborts the send to every connection after it",
                "wrap the send in `try: ... except Exception:` inside the loop (drop the dead connection there), or "
                "send concurrently with `asyncio.gather(..., return_exceptions=True)`",
            )
