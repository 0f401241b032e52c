"""AL601: a `while True:` websocket receive loop with no `WebSocketDisconnect` handler around it."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, handler_type_names, in_try_body, keyword, positional, \
    route_decorator, table, table_names, tail
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
