"""Fixes more than one rule offers (drop `async` so FastAPI runs the function in its thread pool)."""

from __future__ import annotations

import libcst as cst

from async_lint.checks._util import is_path_operation
from async_lint.fix.spec import FixSpec
from async_lint.walker import dotted_name


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
