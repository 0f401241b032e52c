"""AL101-AL106, AL110: calls that block the event loop, driven by the catalog's `[[blocking]]` tables."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.catalog import ApiEntry, Catalog
from async_lint.checks import Rule
from async_lint.checks._util import keyword as keyword_arg, positional, walk
from async_lint.checks.callers import cli_only_candidate
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import awaited, in_generator_expression, to_thread
from async_lint.fix.shared import drop_async_fix
from async_lint.fix.spec import FixSpec, ImportNeed
from async_lint.resolve import Resolver
from async_lint.checks.nonblocking import (before_a_raise, has_nonblocking_flag, in_dev_only_branch,
                                           in_run_once_guard, is_teardown_wait, serves_nothing)
from async_lint.walker import Scope, child_list, dotted_name


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


# Reads of kernel pseudo-files (`/proc/meminfo`, `/sys/fs/cgroup/memory.max`) return kernel memory: no disk wait.
PSEUDO_FILE_ROOTS = ("/proc/", "/sys/")
_OPENS = frozenset({"builtins.open", "io.open", "codecs.open"})
_PATH_READS = frozenset({"pathlib.Path.read_text", "pathlib.Path.read_bytes", "pathlib.Path.open"})
_PATH_MAKERS = frozenset({"Path", "PurePath", "PosixPath", "join"})


def _literal_start(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
    """The literal text a path expression starts with: a string, an f-string's first text, the left of `+` or
    `/`, the first argument of `Path(...)` / `os.path.join(...)`, or a module-level constant holding one."""
    if depth > 4:
        return None
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        return _literal_start(expr.left, scope, depth + 1)
    if isinstance(expr, cst.FormattedString):
        first = expr.parts[0] if expr.parts else None
        if isinstance(first, cst.FormattedStringExpression):  # f"{ROOT}/stat": the constant's start
            return _literal_start(first.expression, scope, depth + 1)
        return first.value if isinstance(first, cst.FormattedStringText) else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Divide)):
        return _literal_start(expr.left, scope, depth + 1)
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func) or ""
        args = positional(expr)
        if name.rsplit(".", 1)[-1] in _PATH_MAKERS and args:
            return _literal_start(args[0].value, scope, depth + 1)
        return None
    if isinstance(expr, cst.Name):
        owner: Scope | None = scope
        while owner is not None and expr.value not in owner.bindings:
            owner = owner.parent
        if owner is None or owner.kind != "module":
            return None
        bindings = owner.bindings[expr.value]
        if len(bindings) == 1 and bindings[0][0] == "assign":
            return _literal_start(bindings[0][1], owner, depth + 1)
    return None


def reads_pseudo_file(call: cst.Call, callee: str, scope: Scope) -> bool:
    """`open("/proc/meminfo")`, `open(CGROUP_MEMORY_MAX)` (a module constant), `Path("/sys/...").read_text()`."""
    if callee in _OPENS:
        target = keyword_arg(call, "file")
        args = positional(call)
        path = target.value if target is not None else args[0].value if args else None
    elif callee in _PATH_READS and isinstance(call.func, cst.Attribute):
        path = call.func.value
    else:
        return False
    start = _literal_start(path, scope) if path is not None else None
    return start is not None and start.startswith(PSEUDO_FILE_ROOTS)


def blocking_entry(call: cst.Call, scope: Scope, resolver: Resolver, catalog: Catalog) -> ApiEntry | None:
    """The catalog entry of a blocking call (AL101-AL106, AL110), or None; non-blocking forms and flags, reads of
    kernel pseudo-files, calls in a run-once guard (lazy initialisation) or a development-only branch and a helper
    thread's join at teardown excluded. An awaited call is async whatever its receiver's annotation claims
    (`session: Session` holding an AsyncSession). Shared by the direct checks and AL107's summaries."""
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
    if reads_pseudo_file(call, callee, scope) or has_nonblocking_flag(call, callee, catalog):
        return None
    facts = resolver.facts
    if in_run_once_guard(call, facts) or is_teardown_wait(call, callee, scope, facts, catalog):
        return None
    if in_dev_only_branch(call, facts, catalog):
        return None  # `if settings.DEBUG:` (development-only code)
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
        stack.extend(child_list(node))
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
    """AL101: `await asyncio.sleep(...)` (safe). AL102-AL106 and AL110: make a never-awaiting endpoint or dependency a sync
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


_OFFLOADERS = frozenset({"asyncio.to_thread", "anyio.to_thread.run_sync", "asyncio.AbstractEventLoop.run_in_executor",
                         "starlette.concurrency.run_in_threadpool", "fastapi.concurrency.run_in_threadpool"})


def _offloaded_use(name: cst.Name, scope: Scope, ctx: FileContext) -> bool:
    """`f` handed to a thread: `to_thread(f.read, n)`, `to_thread(json.load, f)`, `run_in_executor(None, f.read)`."""
    node: cst.CSTNode = name
    parent = ctx.facts.parent_of(node)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        node, parent = parent, ctx.facts.parent_of(parent)
    if not (isinstance(parent, cst.Arg) and parent.value is node):
        return False
    taker = ctx.facts.parent_of(parent)
    if not isinstance(taker, cst.Call):
        return False
    func = taker.func
    return (ctx.callee(taker, scope) in _OFFLOADERS
            or isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor")


def file_io_offloaded(call: cst.Call, scope: Scope, ctx: FileContext) -> bool:
    """`with open(p) as f:` whose body only hands `f` to a thread (`await asyncio.to_thread(f.read, n)`): the
    maintainer moved the I/O off the loop on purpose; only the cheap `open()` runs on it."""
    item = ctx.facts.parent_of(call)
    if not (isinstance(item, cst.WithItem) and item.item is call and item.asname is not None
            and isinstance(item.asname.name, cst.Name)):
        return False
    with_node = ctx.facts.parent_of(item)
    if not isinstance(with_node, cst.With):
        return False
    handle = item.asname.name.value
    uses = [n for n in walk(with_node.body) if isinstance(n, cst.Name) and n.value == handle]
    return bool(uses) and all(_offloaded_use(n, scope, ctx) for n in uses)


class BlockingCall(Rule):
    """A catalog-listed blocking call made directly in the body of an `async def`."""

    codes = ("AL101", "AL102", "AL103", "AL104", "AL105", "AL106", "AL110")

    def check(self, ctx: FileContext) -> Iterator[Report]:
        catalog = ctx.catalog
        for call, scope in ctx.facts.calls:
            if not scope.in_async_function:
                continue
            entry = blocking_entry(call, scope, ctx.resolver, catalog)
            if entry is None or entry.code not in self.enabled or serves_nothing(ctx, scope):
                continue
            if file_io_offloaded(call, scope, ctx) or before_a_raise(call, ctx.facts):
                continue  # the I/O is handed to a thread; cleanup on the way to a `raise` (a failure path)
            yield Report(
                entry.code,
                call,
                f"`{shown(call, entry.name)}()` blocks the event loop in `{function_label(scope)}`: {entry.why}",
                f"use {entry.suggest}",
                fix=blocking_fix(entry.code, entry.name, call, scope, ctx),
                unless_cli_only=cli_only_candidate(scope),
            )
        for with_node, scope in ctx.facts.withs:
            if with_node.asynchronous is not None or not scope.in_async_function:
                continue
            for item in with_node.items:
                typed = ctx.type_of(item.item, scope)
                entry = catalog.blocking_context.get(typed) if typed else None
                if entry is None or entry.code not in self.enabled or serves_nothing(ctx, scope):
                    continue
                yield Report(
                    entry.code,
                    item.item,
                    f"`with {dotted_name(item.item) or typed}:` blocks the event loop in `{function_label(scope)}`: {entry.why}",
                    f"use {entry.suggest}",
                    unless_cli_only=cli_only_candidate(scope),
                )
