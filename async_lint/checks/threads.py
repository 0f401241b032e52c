"""AL801: event-loop APIs called from a worker thread.

A function runs in a worker thread when this module hands it to a thread runner (`asyncio.to_thread(fn, ...)`,
`loop.run_in_executor(executor, fn, ...)`, `threading.Thread(target=fn)`, `run_in_threadpool`, a lambda passed
to one of them), or when it is a sync FastAPI path operation or a sync function named in `Depends(...)`, which
FastAPI runs in its thread pool. In such a function (its own body, not nested defs) the calls that only the loop's
thread may make are reported: `loop.call_soon`/`call_later`/`call_at`/`create_task`, `asyncio.create_task`, and
`put_nowait`/`set`/`set_result`/`set_exception` on a receiver whose type is known to be an asyncio queue, event or
future. A function that runs its own event loop (`asyncio.run`, `new_event_loop`, ...) is left alone.

The fix (unsafe) hands the call to the loop: `loop.call_soon` becomes `loop.call_soon_threadsafe`; `q.put_nowait(x)`
and `ev.set()` become `loop.call_soon_threadsafe(q.put_nowait, x)`; a discarded `loop.create_task(coro)` or
`asyncio.create_task(coro)` becomes `asyncio.run_coroutine_threadsafe(coro, loop)`. It needs a loop reference:
the receiver itself, a parameter of the thread function named `loop` (or annotated as an event loop), or a name of
an enclosing function whose value is the running loop.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import imports_module, is_path_operation, keyword, positional, table_names
from async_lint.checks.coroutines import _loop_like
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import spelled
from async_lint.fix.spec import FixSpec
from async_lint.walker import Scope, dotted_name, short_name

LOOP = "asyncio.AbstractEventLoop"
_LOOP_METHODS = ("call_soon", "call_later", "call_at", "create_task")
_DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends", "fastapi.Security", "fastapi.params.Security"})
_PARTIAL = frozenset({"functools.partial"})

ThreadFunction = tuple[cst.CSTNode, Scope, str]  # (def or lambda, its scope, how it gets to a thread)


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


class LoopApiFromThread(Rule):
    codes = ("AL801",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        functions = self._thread_functions(ctx)
        if not functions:
            return
        unsafe = ctx.catalog.pattern_table("loop-unsafe-calls")
        own_loop = table_names(ctx, "own-loop-calls", "calls")
        by_scope: dict[int, list[tuple[cst.Call, Scope]]] = {}
        for call, scope in ctx.facts.calls:
            by_scope.setdefault(id(scope), []).append((call, scope))
        for node, fscope, how in functions.values():
            calls = by_scope.get(id(fscope), [])
            if any(ctx.callee(call, scope) in own_loop or self._loop_method(ctx, call, scope) in own_loop
                   for call, scope in calls):
                continue  # runs its own event loop in this thread: its loop APIs are its own
            for call, scope in calls:
                callee = ctx.callee(call, scope)
                entry = unsafe.get(callee) if callee is not None else None
                if entry is None:
                    callee = self._loop_method(ctx, call, scope)
                    entry = unsafe.get(callee) if callee is not None else None
                if entry is None:
                    continue
                yield self._report(ctx, call, scope, callee, entry.get("fix"), how)

    @staticmethod
    def _loop_method(ctx: FileContext, call: cst.Call, scope: Scope) -> str | None:
        """`loop.call_soon(...)` on an untyped receiver named like a loop: `asyncio.AbstractEventLoop.call_soon`."""
        func = call.func
        if ctx.callee(call, scope) is None and isinstance(func, cst.Attribute) and _loop_like(func):
            return f"{LOOP}.{func.attr.value}"
        return None

    # ------------------------------------------------------------------ which functions run in a thread
    def _thread_functions(self, ctx: FileContext) -> dict[int, ThreadFunction]:
        facts = ctx.facts
        runners = ctx.catalog.pattern_table("thread-runners")
        found: dict[int, ThreadFunction] = {}
        for call, scope in facts.calls:
            func = call.func
            name = short_name(func) or ""
            if name not in ("to_thread", "run_sync", "run_in_threadpool", "run_in_executor", "Thread", "Timer",
                            "Depends", "Security"):
                continue
            callee = ctx.callee(call, scope)
            if callee in _DEPENDS:
                target = self._target(call, 0, None)
                resolved = self._resolve(ctx, target, scope) if target is not None else None
                if resolved is not None and isinstance(resolved[0], cst.FunctionDef):
                    found.setdefault(id(resolved[0]), (*resolved, "a sync dependency, run in FastAPI's thread pool"))
                continue
            entry = runners.get(callee) if callee is not None else None
            if entry is None and callee is None and name == "run_in_executor" and _loop_like(func):
                entry = {"position": 1}
            if entry is None:
                continue
            target = self._target(call, entry.get("position", 0), entry.get("keyword"))
            if target is None:
                continue
            partial = target
            if isinstance(target, cst.Call) and ctx.callee(target, scope) in _PARTIAL and positional(target):
                partial = positional(target)[0].value
            resolved = self._resolve(ctx, partial, scope)
            if resolved is not None:
                shown = dotted_name(func) or name
                found.setdefault(id(resolved[0]), (*resolved, f"passed to `{shown}()`"))
        if imports_module(ctx, ("fastapi",)):
            for node, fscope in facts.functions:
                if node.asynchronous is None and is_path_operation(node):
                    found.setdefault(id(node), (node, fscope, "a sync path operation, run in FastAPI's thread pool"))
        return found

    @staticmethod
    def _target(call: cst.Call, position: int, name: str | None) -> cst.BaseExpression | None:
        if name is not None:
            arg = keyword(call, name)
            if arg is not None:
                return arg.value
        args = positional(call)
        if any(arg.star for arg in call.args[:position + 1]):
            return None  # `to_thread(*args)`: cannot tell which is the callable
        return args[position].value if len(args) > position else None

    @staticmethod
    def _resolve(ctx: FileContext, target: cst.BaseExpression, scope: Scope) -> tuple[cst.CSTNode, Scope] | None:
        """The sync def (or lambda) `target` names in this module: `fn`, `self.method`, an inline lambda."""
        facts = ctx.facts
        if isinstance(target, cst.Lambda):
            return target, facts.scope_of[id(target)]
        node = None
        if isinstance(target, cst.Name):
            found = ctx.resolver.lookup(target.value, scope)
            if found is not None and len(found[1]) == 1 and found[1][0][0] == "def":
                node = found[1][0][1]
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            func = scope.function
            if func is not None and func.self_name == target.value.value and func.class_scope is not None:
                bindings = func.class_scope.bindings.get(target.attr.value, [])
                if len(bindings) == 1 and bindings[0][0] == "def":
                    node = bindings[0][1]
        if not isinstance(node, cst.FunctionDef) or node.asynchronous is not None:
            return None
        return node, facts.scope_of[id(node)]

    # ------------------------------------------------------------------ report and fix
    def _report(self, ctx: FileContext, call: cst.Call, scope: Scope, callee: str, kind: str | None,
                how: str) -> Report:
        shown = dotted_name(call.func) or callee.rsplit(".", 1)[-1]
        owner = scope.function
        where = f"`{owner.name}`" if owner is not None and owner.kind == "function" else "this lambda"
        method = callee.rsplit(".", 1)[-1]
        if method in ("create_task", "ensure_future"):
            effect = ("with no running loop in this thread `asyncio.create_task()` raises `RuntimeError`; "
                      "`loop.create_task()` from another thread corrupts the loop's state or waits unnoticed")
            suggestion = "use `asyncio.run_coroutine_threadsafe(coro, loop)` with the loop the coroutine belongs to"
        else:
            effect = ("asyncio objects are not thread-safe: the loop is not woken, so the waiting code resumes "
                      "late or never, and the loop's state can be corrupted")
            suggestion = ("hand the call to the loop: `loop.call_soon_threadsafe(...)`" if method != "call_soon"
                          else "use `loop.call_soon_threadsafe(...)`")
        message = f"`{shown}()` is called in {where}, which runs in a worker thread ({how}): {effect}"
        return Report("AL801", call, message, suggestion, fix=self._fix(ctx, call, scope, callee, kind))

    def _fix(self, ctx: FileContext, call: cst.Call, scope: Scope, callee: str, kind: str | None) -> FixSpec | None:
        func = call.func
        if kind is None or not isinstance(func, cst.Attribute):
            return None
        if kind == "rename":
            if func.attr.value != "call_soon":
                return None
            new = call.with_changes(func=func.with_changes(attr=cst.Name("call_soon_threadsafe")))
            return FixSpec("Use `call_soon_threadsafe`", "unsafe", replacements=[(call, new)])
        discarded = isinstance(ctx.facts.parent_of(call), cst.Expr)
        plain = all(arg.keyword is None and not arg.star for arg in call.args)
        if not discarded or not plain:
            return None
        if kind == "via-loop":
            loop = self._loop_name(ctx, scope)
            if loop is None:
                return None
            args = [cst.Arg(func, comma=_comma() if call.args else cst.MaybeSentinel.DEFAULT), *call.args]
            new = cst.Call(func=cst.Attribute(cst.Name(loop), cst.Name("call_soon_threadsafe")), args=args)
            return FixSpec("Hand the call to the loop with `loop.call_soon_threadsafe`", "unsafe",
                           replacements=[(call, new)])
        if kind == "coroutine" and len(call.args) == 1:
            if func.attr.value == "create_task" and (ctx.type_of(func.value, scope) == LOOP or (
                    ctx.callee(call, scope) is None and _loop_like(func))):
                loop_expr: cst.BaseExpression = func.value
            elif ctx.callee(call, scope) in ("asyncio.create_task", "asyncio.tasks.create_task",
                                             "asyncio.ensure_future"):
                loop = self._loop_name(ctx, scope)
                if loop is None:
                    return None
                loop_expr = cst.Name(loop)
            else:
                return None
            spelling = spelled(ctx.facts, "asyncio.run_coroutine_threadsafe")
            if spelling is None:
                return None
            text, imports = spelling
            coro = call.args[0].with_changes(comma=_comma())
            new = cst.Call(func=cst.parse_expression(text), args=[coro, cst.Arg(loop_expr)])
            return FixSpec("Submit the coroutine with `asyncio.run_coroutine_threadsafe(coro, loop)`", "unsafe",
                           replacements=[(call, new)], imports=imports)
        return None

    @staticmethod
    def _loop_name(ctx: FileContext, scope: Scope) -> str | None:
        """A name that holds the loop here: a parameter of the thread function named `loop` (or annotated as a
        loop), or a name of an enclosing function whose value is a loop (`loop = asyncio.get_running_loop()`)."""
        resolver = ctx.resolver
        own = scope
        for name in sorted({n for n in own.bindings if n.lstrip("_").endswith("loop")}, key=len):
            found = resolver.lookup(name, own)
            if found is None or found[0] is not own:
                continue
            bindings = found[1]
            if len(bindings) != 1 or bindings[0][0] != "param":
                continue  # bound in the thread itself: `asyncio.get_event_loop()` here is another loop
            annotation = bindings[0][1]
            if annotation is None and name in ("loop", "event_loop", "main_loop") or resolver.annotation_type(
                    annotation, own.parent or own) == LOOP:
                return name
        current = own.parent
        while current is not None and current.kind in ("function", "lambda"):
            for name in sorted(current.bindings, key=len):
                if name in own.bindings:
                    continue  # shadowed in the thread function
                if name.lstrip("_").endswith("loop") and resolver.name_type(name, current) == LOOP:
                    return name
            current = current.parent
        return None
