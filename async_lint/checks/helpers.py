"""AL107: an `async def` calls a project sync function that blocks further down (answered by the project index)."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import DEFERRED_FIXES, Rule
from async_lint.checks._util import keyword
from async_lint.checks.blocking import in_thread_lock_block, result_may_be_awaited
from async_lint.checks.callers import cli_only_candidate
from async_lint.checks.nonblocking import before_a_raise, in_run_once_guard, serves_nothing
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.flow import attr_call, positional_params
from async_lint.fix.nodes import in_generator_expression, to_thread
from async_lint.fix.shared import drop_async_fix
from async_lint.fix.spec import FixSpec, ImportNeed
from async_lint.walker import Scope, dotted_name


def _builds_raised_exception(call: cst.Call, ctx: FileContext) -> bool:
    """Is the call part of a `raise` statement's exception (`raise make_error(...)`)? An error path."""
    for ancestor in ctx.facts.ancestors(call):
        if isinstance(ancestor, cst.Raise):
            return True
        if isinstance(ancestor, (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.FunctionDef, cst.Lambda)):
            return False
    return False


# A helper called with one of these set to False asks for its non-blocking mode (`_file_lock(p, blocking=False)`).
NONBLOCKING_KEYWORDS = frozenset({"blocking", "block", "wait"})


def _asks_not_to_block(call: cst.Call) -> bool:
    for name in NONBLOCKING_KEYWORDS:
        arg = keyword(call, name)
        if arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "False":
            return True
    return False


def _stored_attr_call(call: cst.Call, scope: Scope, ctx: FileContext) -> str | None:
    """Preview: `self.<attr>.<method>(...)` where this file's class stores a constructor parameter in
    `self.<attr>` (`self.session = session` in `__init__`), as "<class>\0<attr>\0<method>": the project index
    types the attribute by what the constructor's callers pass (a sync `Session`)."""
    found = attr_call(call, scope)
    function = scope.function
    cls = function.class_scope if function is not None else None
    if found is None or cls is None or not ctx.resolver.module_name:
        return None
    attr, method = found
    for kind, value, method_scope in cls.attr_assigns.get(attr, ()):
        init = method_scope.node if method_scope is not None else None
        if (kind == "assign" and isinstance(init, cst.FunctionDef) and init.name.value == "__init__"
                and isinstance(value, cst.Name) and value.value in (
                    *positional_params(init, True), *(p.name.value for p in init.params.kwonly_params))):
            return f"{ctx.resolver.module_name}.{cls.qualname}\0{attr}\0{method}"
    return None


class BlockingHelper(Rule):
    codes = ("AL107",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        project = ctx.resolver.project_lookup
        if project is None:
            return
        blocking = ctx.catalog.blocking
        preview = ctx.settings is not None and ctx.settings.preview
        for call, scope in ctx.facts.calls:
            if not scope.in_async_function or isinstance(ctx.facts.parent_of(call), cst.Await):
                continue
            callee = ctx.callee(call, scope)
            stored = None
            if callee is None and preview:
                stored = _stored_attr_call(call, scope, ctx)  # `self.session.query(...)`, typed by the index
                if stored is None:
                    continue
            elif callee is None or not project(callee) or blocking.get(callee) is not None:
                continue
            if result_may_be_awaited(call, scope, ctx):
                continue  # `coro = helper(); await coro`: a dispatch function that hands back a coroutine
            if serves_nothing(ctx, scope):
                continue  # a CLI command or start-up code: no deferred finding, nor a caller of a shared sink
            if _builds_raised_exception(call, ctx):
                continue  # `raise make_error(...)`: an error path, not followed
            if in_run_once_guard(call, ctx.facts) or before_a_raise(call, ctx.facts) or _asks_not_to_block(call):
                continue  # lazy initialisation; cleanup on the way to a `raise`; `helper(blocking=False)`
            if stored is not None:
                shown = dotted_name(call.func)
                yield Report(
                    "AL107", call,
                    f"`{shown}()` blocks the event loop in `async def {scope.name}`: {{chain}}",
                    f"run it in a thread: `await asyncio.to_thread({shown}, ...)`, or pass an async client",
                    defer=("attr-blocking", stored),
                    deferred_fix="helper",
                )
                continue
            shown = dotted_name(call.func) or callee
            yield Report(
                "AL107",
                call,
                f"`{shown}()` blocks the event loop in `async def {scope.name}` through sync helpers: {{chain}}",
                f"run it in a thread: `await asyncio.to_thread({shown}, ...)`, or make the helper async",
                defer=("blocking-helper", callee),
                deferred_fix="helper",
                unless_cli_only=cli_only_candidate(scope),
            )


def helper_fix(call: cst.Call, scope: Scope, ctx: FileContext) -> FixSpec | None:
    """AL107: make a never-awaiting endpoint or dependency a sync `def`, else run the helper in a thread
    (both unsafe); no fix inside generator expressions or `with` items, inside a thread lock's `with` block, or
    when the result is awaited later."""
    if in_generator_expression(call, ctx.facts) or isinstance(ctx.facts.parent_of(call), cst.WithItem):
        return None
    dropped = drop_async_fix(scope, ctx)
    if dropped is not None:
        return dropped
    # A helper whose result is awaited later may return a coroutine when a loop runs (a dispatch function):
    # in a worker thread it would take its sync branch instead. No `await` inside a thread lock's block either.
    if in_thread_lock_block(call, scope, ctx) or result_may_be_awaited(call, scope, ctx):
        return None
    return FixSpec(
        "Run the helper in a thread: `await asyncio.to_thread(...)`", "unsafe",
        replacements=[(call, to_thread(call, ctx.facts))], imports=[ImportNeed("asyncio")])


DEFERRED_FIXES["helper"] = helper_fix
