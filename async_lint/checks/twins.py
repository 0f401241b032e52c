"""AL108 (preview): a sync method called inside `async def` where its project class has an async twin."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import not_serving
from async_lint.checks.blocking import result_may_be_awaited
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.index_flow import twin_names
from async_lint.walker import dotted_name


class SyncTwin(Rule):
    codes = ("AL108",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        project = ctx.resolver.project_lookup
        if project is None:
            return
        for call, scope in ctx.facts.calls:
            func = call.func
            if not scope.in_async_function or not isinstance(func, cst.Attribute):
                continue
            if isinstance(ctx.facts.parent_of(call), cst.Await):
                continue
            receiver = ctx.type_of(func.value, scope)
            if receiver is None or not project(receiver):
                continue
            if result_may_be_awaited(call, scope, ctx) or not_serving(ctx, scope):
                continue
            method = func.attr.value
            if scope.name in twin_names(method):
                continue  # the twin's own body (a default `async def afoo(self): return self.foo()`)
            shown = dotted_name(func) or f"{receiver}.{func.attr.value}"
            owner = shown.rpartition(".")[0] or "obj"
            yield Report(
                "AL108", call,
                f"`{shown}()` is the sync twin of `{owner}.{{twin}}()` and runs on the event loop in "
                f"`async def {scope.name}`",
                f"use `await {owner}.{{twin}}(...)`",
                defer=("sync-twin", f"{receiver}\0{func.attr.value}"),
            )
