"""AL101-AL106: calls that block the event loop, driven by the catalog's `[[blocking]]` tables."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.catalog import ApiEntry, Catalog
from async_lint.checks import Rule
from async_lint.checks._util import keyword as keyword_arg, positional
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fixes import FixSpec, ImportNeed, awaited, drop_async_fix, in_generator_expression, to_thread
from async_lint.resolve import Resolver
from async_lint.walker import Scope, dotted_name


def is_nonblocking_form(call: cst.Call, keyword: str, position: int) -> bool:
    """`q.get(block=False)`, `q.get(False)`, `lock.acquire(blocking=False)`."""
    named = keyword_arg(call, keyword)
    if named is not None:
        return isinstance(named.value, cst.Name) and named.value.value == "False"
    args = positional(call)
    if len(args) > position:
        value = args[position].value
        return isinstance(value, cst.Name) and value.value == "False"
    return False


def shown(call: cst.Call, callee: str) -> str:
    """How to name the call in a message: as written when it is a plain dotted name."""
    return dotted_name(call.func) or callee


def function_label(scope: Scope) -> str:
    return f"async def {scope.name}"


def blocking_entry(call: cst.Call, scope: Scope, resolver: Resolver, catalog: Catalog) -> ApiEntry | None:
    """The catalog entry of a blocking call (AL101-AL106), or None; non-blocking forms excluded. An awaited
    call is async whatever its receiver's annotation claims (`session: Session` holding an AsyncSession)."""
    if isinstance(resolver.facts.parent_of(call), cst.Await):
        return None
    callee = resolver.callee(call.func, scope)
    if callee is None:
        return None
    entry = catalog.blocking.get(callee)
    if entry is None:
        return None
    form = catalog.nonblocking_forms.get(callee)
    if form is not None and is_nonblocking_form(call, *form):
        return None
    return entry


def blocking_fix(code: str, callee: str, call: cst.Call, scope: Scope, ctx: FileContext) -> FixSpec | None:
    """AL101: `await asyncio.sleep(...)` (safe). AL102-AL106: make a never-awaiting endpoint or dependency a sync
    `def`, else `await asyncio.to_thread(f, ...)` (unsafe); never for `with` items or generator expressions."""
    facts = ctx.facts
    if in_generator_expression(call, facts):
        return None
    if code == "AL101" and callee == "time.sleep":
        sleep = call.with_changes(func=cst.parse_expression("asyncio.sleep"))
        return FixSpec("Replace with `await asyncio.sleep(...)`", "safe",
                       replacements=[(call, awaited(sleep, call, facts))], imports=[ImportNeed("asyncio")])
    if isinstance(facts.parent_of(call), cst.WithItem):
        return None
    dropped = drop_async_fix(scope, ctx)
    if dropped is not None:
        return dropped
    return FixSpec("Run it in a thread: `await asyncio.to_thread(...)`", "unsafe",
                   replacements=[(call, to_thread(call, facts))], imports=[ImportNeed("asyncio")])


class BlockingCall(Rule):
    """A catalog-listed blocking call made directly in the body of an `async def`."""

    codes = ("AL101", "AL102", "AL103", "AL104", "AL105", "AL106")

    def check(self, ctx: FileContext) -> Iterator[Report]:
        catalog = ctx.catalog
        for call, scope in ctx.facts.calls:
            if not scope.in_async_function:
                continue
            entry = blocking_entry(call, scope, ctx.resolver, catalog)
            if entry is None or entry.code not in self.enabled:
                continue
            yield Report(
                entry.code,
                call,
                f"`{shown(call, entry.name)}()` blocks the event loop in `{function_label(scope)}`: {entry.why}",
                f"use {entry.suggest}",
                fix=blocking_fix(entry.code, entry.name, call, scope, ctx),
            )
        for with_node, scope in ctx.facts.withs:
            if with_node.asynchronous is not None or not scope.in_async_function:
                continue
            for item in with_node.items:
                typed = ctx.type_of(item.item, scope)
                entry = catalog.blocking_context.get(typed) if typed else None
                if entry is None or entry.code not in self.enabled:
                    continue
                yield Report(
                    entry.code,
                    item.item,
                    f"`with {dotted_name(item.item) or typed}:` blocks the event loop in `{function_label(scope)}`: {entry.why}",
                    f"use {entry.suggest}",
                )
