"""AL102 for Celery task results reached through a task's `.delay(...)` / `.apply_async(...)`.

Typed results (`AsyncResult(task_id)`, `celery_app.send_task(...)`, `celery_app.AsyncResult(...)`, a canvas
signature's `.delay()`) are the catalog's `[[blocking]]` entries, reported by checks/blocking.py. A project task
(`@celery_app.task def add(...)`) has no catalog type, so its `add.delay(...)` is recognised by shape: `.get()` /
`.wait()` called on such a call, or on a local name bound once to one, waits for a worker to finish the task.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import not_serving
from async_lint.checks.callers import cli_only_candidate
from async_lint.checks.blocking import blocking_fix
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.walker import Scope, dotted_name

SUBMIT_METHODS = frozenset({"delay", "apply_async"})
WAIT_METHODS = frozenset({"get", "wait"})


def _submission(ctx: FileContext, node: cst.BaseExpression, scope: Scope) -> cst.Call | None:
    """`task.delay(...)` itself, or the one value a local name was bound to when it is one."""
    if isinstance(node, cst.Name):
        found = ctx.resolver.lookup(node.value, scope)
        if found is None or found[0] is not scope or len(found[1]) != 1 or found[1][0][0] != "assign":
            return None
        node = found[1][0][1]
    if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in SUBMIT_METHODS):
        return node
    return None


class CeleryResultWait(Rule):
    codes = ("AL102",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        blocking = ctx.catalog.blocking
        for call, scope in ctx.facts.calls:
            func = call.func
            if not (scope.in_async_function and isinstance(func, cst.Attribute) and func.attr.value in WAIT_METHODS):
                continue
            if isinstance(ctx.facts.parent_of(call), cst.Await):
                continue
            submitted = _submission(ctx, func.value, scope)
            if submitted is None:
                continue
            callee = ctx.callee(call, scope)
            if callee is not None and blocking.get(callee) is not None:
                continue  # a typed result: reported by the [[blocking]] table
            if not_serving(ctx, scope):
                continue  # a CLI command, start-up code (AL101-AL107 skip them)
            task = dotted_name(submitted.func) or submitted.func.attr.value  # type: ignore[union-attr]
            shown = dotted_name(func) or f"{task}(...).{func.attr.value}"
            yield Report(
                "AL102", call,
                f"`{shown}()` blocks the event loop in `async def {scope.name}`: it waits on the loop's thread until "
                f"a worker finishes the task submitted by `{task}()`",
                "poll `result.ready()` with `await asyncio.sleep(...)` between checks, return the task id for the "
                "client to poll, or `await asyncio.to_thread(result.get, timeout=...)`",
                fix=blocking_fix("AL102", callee or shown, call, scope, ctx),
                unless_cli_only=cli_only_candidate(scope),
            )
