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
from async_lint.walker import Scope, children, dotted_name


def _is_false_or_zero(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Name):
        return value.value == "False"
    if isinstance(value, (cst.Integer, cst.Float)):
        try:
            return float(value.value.replace("_", "")) == 0
        except ValueError:
            return False
    return False


def is_nonblocking_form(call: cst.Call, keyword: str, position: int) -> bool:
    """`q.get(block=False)`, `q.get(False)`, `sem.acquire(blocking=False)`, `thread.join(timeout=0)`."""
    named = keyword_arg(call, keyword)
    if named is not None:
        return _is_false_or_zero(named.value)
    args = positional(call)
    if len(args) > position:
        return _is_false_or_zero(args[position].value)
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


THREAD_LOCKS = frozenset({"threading.Lock", "threading.Condition", "threading.Semaphore"})
_LOCKISH = ("lock", "mutex", "semaphore", "cond")
# Calls that take an awaitable: a result passed to them (or awaited) must stay what the call returned.
AWAITABLE_TAKERS = frozenset({
    "asyncio.gather", "asyncio.wait", "asyncio.wait_for", "asyncio.shield", "asyncio.create_task",
    "asyncio.ensure_future", "asyncio.as_completed", "asyncio.run", "asyncio.run_coroutine_threadsafe",
    "asyncio.iscoroutine", "asyncio.isfuture", "inspect.isawaitable", "inspect.iscoroutine",
    "asyncio.TaskGroup.create_task", "asyncio.AbstractEventLoop.create_task",
})


def _is_thread_lock(item: cst.BaseExpression, scope: Scope, ctx: FileContext) -> bool:
    """A `with` item that holds a thread lock: typed so, or unknown and named like one (`self._mutex`)."""
    typed = ctx.type_of(item, scope)
    if typed is not None:
        return typed in THREAD_LOCKS
    name = dotted_name(item.func if isinstance(item, cst.Call) else item) or ""
    tail = name.rsplit(".", 1)[-1].lower()
    return any(word in tail for word in _LOCKISH)


def _after_acquire(node: cst.CSTNode, scope: Scope, ctx: FileContext) -> bool:
    """Does the function call `lock.acquire()` on a thread lock before `node` (`acquire(); try: ... finally:
    release()`)? Conservatively, the lock may still be held there."""
    for call, call_scope in ctx.facts.calls:
        if call is node:
            return False
        func = call.func
        if (call_scope is scope and isinstance(func, cst.Attribute) and func.attr.value == "acquire"
                and _is_thread_lock(func.value, scope, ctx)):
            return True
    return False


def in_thread_lock_block(node: cst.CSTNode, scope: Scope, ctx: FileContext) -> bool:
    """Is `node` inside the body of a sync `with` holding a thread lock (within its function), or after an
    `acquire()` of one? An `await` there lets another coroutine on the same thread block the loop on that lock:
    a deadlock."""
    if _after_acquire(node, scope, ctx):
        return True
    child = node
    for ancestor in ctx.facts.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return False
        if (isinstance(ancestor, cst.With) and ancestor.asynchronous is None and child is ancestor.body
                and any(_is_thread_lock(item.item, scope, ctx) for item in ancestor.items)):
            return True
        child = ancestor
    return False


def _awaited_names(scope: Scope, ctx: FileContext) -> set[str]:
    """Names awaited (`await coro`) or handed to an API that takes an awaitable, in one function body (nested
    functions left out). Walks the walker's children: libcst's visitor rebuilds every node it visits (measured:
    a quarter of a cold run on open-webui)."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [scope.node]
    while stack:
        node = stack.pop()
        t = type(node)
        if t is cst.FunctionDef and node is not scope.node:
            continue
        if t is cst.Await:
            if isinstance(node.expression, cst.Name):
                names.add(node.expression.value)
        elif t is cst.Call:
            if ctx.callee(node, scope) in AWAITABLE_TAKERS:
                names.update(a.value.value for a in node.args if isinstance(a.value, cst.Name))
        stack.extend(children(node))
    return names


def result_may_be_awaited(call: cst.Call, scope: Scope, ctx: FileContext) -> bool:
    """Is the call's result awaited later (`coro = f()` ... `await coro`) or handed to `asyncio.gather`,
    `create_task` and the like? Then it may be a coroutine that a thread would not produce: no `to_thread`."""
    parent = ctx.facts.parent_of(call)
    if isinstance(parent, cst.Arg):
        taker = ctx.facts.parent_of(parent)
        return isinstance(taker, cst.Call) and ctx.callee(taker, scope) in AWAITABLE_TAKERS
    target = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, (cst.AnnAssign, cst.NamedExpr)):
        target = parent.target
    if not isinstance(target, cst.Name) or scope.node is None:
        return False
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    key = ("awaited-names", id(scope.node))
    if key not in cache:
        cache[key] = _awaited_names(scope, ctx)
    return target.value in cache[key]


# Objects usable only by the thread that made them: `sqlite3` connections and cursors raise ProgrammingError
# when a call moves to a worker thread (each `to_thread` may run on a different one).
THREAD_AFFINE = ("sqlite3.",)


def thread_fix_unsafe(call: cst.Call, callee: str, scope: Scope, ctx: FileContext) -> bool:
    """No `await asyncio.to_thread(...)` rewrite: of an `acquire()` (a lock acquired in a worker thread stays
    held by that thread), of a thread-affine API (sqlite3), inside a thread lock's `with` block, or of a call
    whose result is awaited later."""
    return (callee.rsplit(".", 1)[-1] == "acquire" or callee.startswith(THREAD_AFFINE)
            or in_thread_lock_block(call, scope, ctx) or result_may_be_awaited(call, scope, ctx))


def blocking_fix(code: str, callee: str, call: cst.Call, scope: Scope, ctx: FileContext) -> FixSpec | None:
    """AL101: `await asyncio.sleep(...)` (safe). AL102-AL106: make a never-awaiting endpoint or dependency a sync
    `def`, else `await asyncio.to_thread(f, ...)` (unsafe); never for `with` items or generator expressions, and
    no `await` inserted inside a thread lock's `with` block."""
    facts = ctx.facts
    if in_generator_expression(call, facts):
        return None
    if code == "AL101" and in_thread_lock_block(call, scope, ctx):
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
    if thread_fix_unsafe(call, callee, scope, ctx):
        return None
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
