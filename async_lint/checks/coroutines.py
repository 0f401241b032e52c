"""AL201-AL206: coroutines that never run, tasks that vanish, event loops used wrongly.

Whether a project function is an `async def` may be known only from another file; such findings are deferred
to the project index (see async_lint.index). Library coroutine APIs come from the catalog's [[coroutines]].
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import DEFERRED_FIXES, Rule
from async_lint.checks._util import positional, runs_once
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.flow import CONSUMER_METHODS, call_arg_key
from async_lint.fix.nodes import awaited, in_generator_expression, spread_call
from async_lint.fix.spec import FixSpec, ImportNeed
from async_lint.walker import Facts, Scope, dotted_name, push_children_reversed

_CONDITION_PARENTS = (cst.If, cst.While, cst.IfExp, cst.Assert)
# What a coroutine object itself offers: using these is driving the coroutine, not forgetting it.
_COROUTINE_ATTRS = {"__await__", "send", "throw", "close", "cr_frame", "cr_code", "cr_running", "cr_await",
                    "__name__", "__qualname__", "__aenter__", "__aexit__", "__aiter__", "__anext__"}
# Builtins that use the value itself: handing them a coroutine object is always a mistake.
_VALUE_USERS = {"builtins.len", "builtins.str", "builtins.int", "builtins.float", "builtins.bool",
                "builtins.print", "builtins.list", "builtins.dict", "builtins.sorted", "builtins.sum",
                "builtins.iter", "builtins.next", "json.dumps"}


def _loop_like(func: cst.BaseExpression) -> bool:
    """`loop.create_task`, `self._loop.run_until_complete`: a receiver named like an event loop."""
    if not isinstance(func, cst.Attribute):
        return False
    receiver = dotted_name(func.value)
    return receiver is not None and receiver.rsplit(".", 1)[-1].lstrip("_").endswith("loop")


def _is_condition(node: cst.CSTNode, facts: Facts) -> bool:
    parent = facts.parent_of(node)
    while isinstance(parent, (cst.BooleanOperation, cst.UnaryOperation)):
        if isinstance(parent, cst.UnaryOperation) and not isinstance(parent.operator, cst.Not):
            return False
        node, parent = parent, facts.parent_of(parent)
    if isinstance(parent, _CONDITION_PARENTS):
        return parent.test is node
    return isinstance(node, cst.BooleanOperation) or (
        isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not)
    )


# `with pytest.raises(E):` / `with self.assertRaises(E):` around a call: the test expects the call itself to raise
# (a validation error before any coroutine exists), so a coroutine that is never awaited there is the point.
_RAISES_CONTEXTS = {"pytest.raises"}
_RAISES_METHODS = {"assertRaises", "assertRaisesRegex"}


def _expects_raise(ctx: FileContext, call: cst.Call, scope: Scope) -> bool:
    """The call is in the body of a `with pytest.raises(...)` (or `self.assertRaises(...)`) of its own function."""
    previous: cst.CSTNode = call
    for ancestor in ctx.facts.ancestors(call):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(ancestor, cst.With) and previous is ancestor.body:
            for item in ancestor.items:
                manager = item.item
                if not isinstance(manager, cst.Call):
                    continue
                func = manager.func
                if isinstance(func, cst.Attribute) and func.attr.value in _RAISES_METHODS:
                    return True
                if ctx.resolver.qualify(func, scope) in _RAISES_CONTEXTS:
                    return True
        previous = ancestor
    return False


class CoroutineMisuse:
    """How a value that should have been awaited is used instead (shared by AL201's direct and deferred forms)."""

    def __init__(self, ctx: FileContext):
        self.ctx = ctx
        self.facts = ctx.facts
        self.consumers = ctx.catalog.pattern_table("coroutine-consumers")
        # Preview: a coroutine handed to a project function, (callee, argument key) for the index to judge.
        self.preview = bool(ctx.settings is not None and ctx.settings.preview)
        self.handoff: tuple[str, str] | None = None
        self._orders: dict[int, tuple[list[cst.CSTNode], dict[int, int]]] = {}

    def role(self, call: cst.Call, scope: Scope) -> str | None:
        self.handoff = None
        facts = self.facts
        parent = facts.parent_of(call)
        if isinstance(parent, cst.Await):
            return None
        if isinstance(parent, cst.Expr):
            return "its result is discarded, so it never runs"
        if _is_condition(call, facts):
            return "it is used as a condition, which is always true"
        direct = self._use(call, parent, scope)
        if direct is not None:
            return direct
        if isinstance(parent, cst.Assign) and parent.value is call and len(parent.targets) == 1:
            target = parent.targets[0].target
            if isinstance(target, (cst.Tuple, cst.List)):
                return "it is unpacked before being awaited"
            if isinstance(target, cst.Name) and len(scope.bindings.get(target.value, ())) == 1:
                # Only a name bound here alone: `task = None` elsewhere makes `if task:` a None check.
                return self._next_use(parent, target.value, scope)
        return None

    def _use(self, node: cst.CSTNode, parent: cst.CSTNode | None, scope: Scope) -> str | None:
        """What an expression's immediate use does with the (unawaited) value."""
        if isinstance(parent, cst.Attribute) and parent.value is node:
            if parent.attr.value in _COROUTINE_ATTRS:
                return None
            return f"`.{parent.attr.value}` is looked up on the coroutine object, not on its result"
        if isinstance(parent, cst.Subscript) and parent.value is node:
            return "it is subscripted before being awaited"
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node and parent.asynchronous is None:
            return "it is iterated before being awaited"
        if isinstance(parent, cst.Comparison):
            if all(isinstance(t.operator, (cst.Is, cst.IsNot)) for t in parent.comparisons):
                return None  # `x is not None`: checking for a coroutine, not using it
            return "it is compared before being awaited"
        if isinstance(parent, cst.BinaryOperation):
            return "it is used in arithmetic before being awaited"
        if isinstance(parent, cst.FormattedStringExpression):
            return "it is formatted into a string instead of its result"
        if isinstance(parent, cst.Arg):
            call = self.facts.parent_of(parent)
            if isinstance(call, cst.Call) and parent.star == "":
                callee = self.ctx.resolver.callee(call.func, scope)
                if callee in _VALUE_USERS:
                    return f"it is passed to `{callee.removeprefix('builtins.')}()` before being awaited"
                if self.preview and callee is not None:
                    return self._handoff(parent, call, callee, scope)
        return None

    def _handoff(self, arg: cst.Arg, call: cst.Call, callee: str, scope: Scope) -> str | None:
        """Preview: a coroutine passed to a project function; the index says whether that function uses it as a
        value (`{use}` in the message) or may await it. asyncio's consumers and library callees stay quiet."""
        resolver = self.ctx.resolver
        func = call.func
        tail = func.attr.value if isinstance(func, cst.Attribute) else None
        if (resolver.project_lookup is None or not resolver.project_lookup(callee)
                or self.consumers.get(callee) is not None or tail in CONSUMER_METHODS):
            return None
        static = isinstance(func, cst.Attribute) and resolver.qualify(func.value, scope) is not None
        key = call_arg_key(arg, call, static)
        if key is None:
            return None
        self.handoff = (callee, key)
        return f"it is passed to `{dotted_name(func) or callee}()`, where {{use}}"

    def _order(self, scope: Scope) -> tuple[list[cst.CSTNode], dict[int, int]]:
        """The function's statements-and-names in source order (nested functions left out), and each
        assignment's place in it: computed once per function, whatever the number of questions."""
        cached = self._orders.get(id(scope))
        if cached is not None:
            return cached
        body = scope.node.body if isinstance(scope.node, (cst.FunctionDef, cst.Module)) else ()
        stack: list[cst.CSTNode] = [body] if isinstance(body, cst.CSTNode) else list(reversed(body))
        order: list[cst.CSTNode] = []
        places: dict[int, int] = {}
        skip = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
        while stack:
            node = stack.pop()
            t = type(node)  # concrete libcst classes: a type test, not ABCMeta's isinstance
            if t is cst.Assign:
                places[id(node)] = len(order)
                order.append(node)
            elif t in skip:
                continue
            elif t is cst.Name:
                order.append(node)
            push_children_reversed(node, stack)
        self._orders[id(scope)] = (order, places)
        return order, places

    def _next_use(self, assign: cst.Assign, name: str, scope: Scope) -> str | None:
        """The first use of `name` after `assign` in the same function: does it treat the coroutine as a value?"""
        order, places = self._order(scope)
        start = places.get(id(assign))
        if start is None:
            return None
        for node in order[start + 1:]:
            if isinstance(node, cst.Name) and node.value == name:
                parent = self.facts.parent_of(node)
                if isinstance(parent, cst.AssignTarget):
                    if self.facts.parent_of(parent) is assign:
                        continue  # the assignment's own target
                    return None  # bound to something else before any use
                if isinstance(parent, cst.Await):
                    return None
                if _is_condition(node, self.facts):
                    return f"`{name}` is tested before being awaited, which is always true"
                use = self._use(node, parent, scope)
                return f"`{name}` holds the coroutine: {use}" if use is not None else None
        return None


class CoroutineRules(Rule):
    codes = ("AL201", "AL202", "AL203", "AL204", "AL205", "AL206")

    def check(self, ctx: FileContext) -> Iterator[Report]:
        enabled = self.enabled
        coroutines = ctx.catalog.pattern_table("coroutines")
        takers = ctx.catalog.pattern_table("callable-takers")
        misuse = CoroutineMisuse(ctx)
        project = ctx.resolver.project_lookup
        facts = ctx.facts
        for call, scope in facts.calls:
            func = call.func
            callee = None
            # Every AL201 report needs a catalog coroutine or a project callee: what the call's value becomes
            # (`role`, which may follow a name through the function) is asked only then.
            if "AL201" in enabled and (callee := ctx.callee(call, scope)) is not None and (
                    coroutines.get(callee) is not None or (project is not None and project(callee))):
                role = misuse.role(call, scope)
                if role is not None and not _expects_raise(ctx, call, scope):
                    shown = dotted_name(func) or callee
                    message = f"`{shown}()` returns a coroutine that is never awaited: {role}"
                    suggestion = "add `await`" if scope.in_async_function else (
                        "await it from an `async def`, or run it with `asyncio.run()`")
                    handoff = misuse.handoff
                    if handoff is not None and callee is not None:
                        made = "" if coroutines.get(callee) is not None else callee
                        if made == "" or (project is not None and project(callee)):
                            yield Report("AL201", call, message, suggestion,
                                         defer=("coroutine-arg", f"{made}\0{handoff[0]}\0{handoff[1]}"),
                                         deferred_fix="await")
                    elif callee is not None and coroutines.get(callee) is not None:
                        yield Report("AL201", call, message, suggestion, fix=await_fix(call, scope, ctx))
                    elif callee is not None and project is not None and project(callee):
                        yield Report("AL201", call, message, suggestion, defer=("coroutine", callee),
                                     deferred_fix="await")
            if not isinstance(func, (cst.Name, cst.Attribute)):
                continue
            name = func.attr.value if isinstance(func, cst.Attribute) else func.value
            if name in ("create_task", "ensure_future") and "AL202" in enabled:
                if isinstance(facts.parent_of(call), cst.Expr) and not runs_once(ctx, scope, call):
                    callee = callee or ctx.callee(call, scope)
                    if callee in ("asyncio.create_task", "asyncio.ensure_future",
                                  "asyncio.AbstractEventLoop.create_task") or (callee is None and _loop_like(func)):
                        yield Report(
                            "AL202", call,
                            f"the task from `{dotted_name(func) or callee}()` is not kept: the event loop holds "
                            "only a weak reference, so it can be garbage-collected before it finishes",
                            "keep a reference (`tasks.add(task); task.add_done_callback(tasks.discard)`) or use "
                            "`asyncio.TaskGroup`",
                        )
            elif name == "get_event_loop" and "AL203" in enabled and scope.in_async_function:
                if (callee or ctx.callee(call, scope)) == "asyncio.get_event_loop":
                    yield Report("AL203", call,
                                 f"`asyncio.get_event_loop()` inside `async def {scope.name}`: the running loop is "
                                 "known here", "use `asyncio.get_running_loop()`",
                                 fix=running_loop_fix(call, scope, ctx))
            elif name in ("run", "run_until_complete") and "AL205" in enabled and scope.in_async_function:
                callee = callee or ctx.callee(call, scope)
                if callee in ("asyncio.run", "anyio.run", "trio.run", "asyncio.AbstractEventLoop.run_until_complete",
                              "asyncio.Runner.run") or (callee is None and name == "run_until_complete"
                                                        and _loop_like(func)):
                    yield Report("AL205", call,
                                 f"`{dotted_name(func) or callee}()` inside `async def {scope.name}` starts a nested "
                                 "event loop and raises \"cannot be called from a running event loop\"",
                                 "`await` the coroutine instead", fix=nested_loop_fix(call, callee, scope, ctx))
            if "AL206" in enabled:
                yield from self._callable_taker(ctx, call, scope, func, takers, coroutines)
        if "AL204" in enabled:
            yield from self._cached_coroutines(ctx)

    def _callable_taker(self, ctx, call, scope, func, takers, coroutines) -> Iterator[Report]:
        attr = func.attr.value if isinstance(func, cst.Attribute) else func.value
        if attr not in ("add_task", "to_thread", "run_in_executor", "run_in_threadpool", "run_sync"):
            return
        callee = ctx.callee(call, scope)
        entry = takers.get(callee) if callee is not None else None
        if entry is None:
            receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else None
            if callee is None and attr == "add_task" and receiver and "background" in receiver.lower():
                entry = {"position": 0}
            elif callee is None and attr == "run_in_executor" and _loop_like(func):
                entry = {"position": 1}
            else:
                return
        args = positional(call)
        if len(args) <= entry["position"]:
            return
        inner = args[entry["position"]].value
        if not isinstance(inner, cst.Call):
            return
        inner_callee = ctx.callee(inner, scope)
        if inner_callee is None:
            return
        shown = dotted_name(inner.func) or inner_callee
        outer = dotted_name(func) or callee
        message = (f"`{shown}(...)` is called and its result passed to `{outer}()`, which expects the function "
                   "itself")
        suggestion = f"pass `{shown}` and its arguments separately: `{outer}(…, {shown}, <args>)`"
        if coroutines.get(inner_callee) is not None:
            yield Report("AL206", inner, message, suggestion, fix=spread_fix(inner, scope, ctx))
        elif ctx.resolver.project_lookup is not None and ctx.resolver.project_lookup(inner_callee):
            yield Report("AL206", inner, message, suggestion, defer=("callable", inner_callee),
                         deferred_fix="spread")

    def _cached_coroutines(self, ctx: FileContext) -> Iterator[Report]:
        for node, fscope in ctx.facts.functions:
            if not fscope.is_async or fscope.parent is None:
                continue
            for decorator in node.decorators:
                expr = decorator.decorator
                target = expr.func if isinstance(expr, cst.Call) else expr
                qualified = ctx.resolver.qualify(target, fscope.parent)
                if qualified in ("functools.lru_cache", "functools.cache"):
                    yield Report(
                        "AL204", decorator,
                        f"`@{qualified.split('.')[-1]}` on `async def {node.name.value}` caches the coroutine "
                        "object: the second call gets an already awaited coroutine and raises RuntimeError",
                        "use `async_lru.alru_cache` or cache the awaited result",
                    )


# ------------------------------------------------------------------------------------------------- fixes


def await_fix(call: cst.Call, scope: Scope, ctx: FileContext) -> FixSpec | None:
    """AL201: insert `await` (safe inside `async def`; nothing to offer in sync code)."""
    if not scope.in_async_function or in_generator_expression(call, ctx.facts):
        return None
    return FixSpec("Insert `await`", "safe", replacements=[(call, awaited(call, call, ctx.facts))])


def running_loop_fix(call: cst.Call, scope: Scope, ctx: FileContext) -> FixSpec:
    """AL203: `asyncio.get_event_loop()` -> `asyncio.get_running_loop()` (safe)."""
    new = call.with_changes(func=cst.parse_expression("asyncio.get_running_loop"))
    return FixSpec("Replace with `asyncio.get_running_loop()`", "safe", replacements=[(call, new)],
                   imports=[ImportNeed("asyncio")])


def nested_loop_fix(call: cst.Call, callee: str | None, scope: Scope, ctx: FileContext) -> FixSpec | None:
    """AL205: `asyncio.run(coro)` / `loop.run_until_complete(coro)` -> `await coro`; `anyio.run(f, *a)` ->
    `await f(*a)` (unsafe: the code now shares the running loop)."""
    if in_generator_expression(call, ctx.facts) or not call.args or any(a.keyword or a.star for a in call.args):
        return None
    if callee == "anyio.run" or callee == "trio.run":
        func, *rest = call.args
        rest = list(rest)
        if rest:
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        target: cst.BaseExpression = cst.Call(func=func.value, args=rest)
    elif len(call.args) == 1:
        target = call.args[0].value
    else:
        return None
    return FixSpec("Replace with `await`", "unsafe", replacements=[(call, awaited(target, call, ctx.facts))])


def spread_fix(inner: cst.Call, scope: Scope, ctx: FileContext) -> FixSpec | None:
    """AL206: `add_task(f(a, b=c))` -> `add_task(f, a, b=c)` (safe). `run_in_executor` and anyio's `run_sync`
    take no keyword arguments: no fix when the inner call has some."""
    arg = ctx.facts.parent_of(inner)
    outer = ctx.facts.parent_of(arg) if isinstance(arg, cst.Arg) else None
    if not isinstance(outer, cst.Call) or any(a.star for a in inner.args):
        return None
    name = dotted_name(outer.func) or ""
    if any(a.keyword for a in inner.args) and name.rsplit(".", 1)[-1] in ("run_in_executor", "run_sync"):
        return None
    index = next(i for i, a in enumerate(outer.args) if a is arg)
    return FixSpec("Pass the function and its arguments separately", "safe",
                   replacements=[(outer, spread_call(outer, index, inner))])


DEFERRED_FIXES["await"] = await_fix
DEFERRED_FIXES["spread"] = spread_fix
