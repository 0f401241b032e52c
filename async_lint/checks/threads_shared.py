"""AL802, AL803: state shared by tasks that run concurrently.

AL802: one `AsyncSession` or asyncpg connection used by awaitables that run at the same time. Concurrent here
means: two or more arguments of one `asyncio.gather(...)`, a starred generator or comprehension in it (one
awaitable per element), two or more `tg.create_task(...)` of one `async with asyncio.TaskGroup() as tg:` (or one in
a loop there). An awaitable uses a session when it is a method call on it (`session.execute(q)`), a call that is
handed it (`load_user(session, 1)`), or a task created from either (`asyncio.create_task(...)`, also through a
name bound to one). The session is known by type only (resolver): annotations, `async with async_session() as s`,
`await asyncpg.connect()`, `pool.acquire()`.

AL803: lazy initialisation across an `await` in an `async def`: `if self.x is None:` (or `if not self.x:`, or a
module global / nonlocal name) whose body assigns the same target after a yield point (an `await`, `async with`,
`async for`, in the assignment itself or before it in the body). Not reported: a check or assignment inside
`async with <lock>` (an `asyncio.Lock`/`Semaphore`, or anything named like a lock), functions that call
`.acquire()` on a lock, an awaited function of this module that itself never awaits (no yield point), and
functions that run once at startup, so have no concurrent callers: named like a lifespan or startup handler
(`lifespan`, `startup`), or handed to `lifespan=` / `on_startup=` in the module.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, positional, table_names, walk
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.resolve import is_none
from async_lint.walker import Scope, children, dotted_name

_TASK_FACTORIES = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.create_task",
                             "asyncio.tasks.ensure_future", "asyncio.TaskGroup.create_task",
                             "asyncio.AbstractEventLoop.create_task"})
_LOCK_TYPES = frozenset({"asyncio.Lock", "asyncio.Condition"})
_COMPREHENSIONS = (cst.GeneratorExp, cst.ListComp, cst.SetComp)
# AL803 is about resources that leak when made twice: a target named like one, or a value from a call named like
# a connect/open (data cached lazily is at worst fetched twice).
_RESOURCE_WORDS = ("client", "pool", "conn", "session", "engine", "channel", "redis", "driver", "socket",
                   "transport", "producer", "consumer", "browser", "database", "http", "cursor")
_DATA_VERBS = ("read", "fetch", "load", "find", "query", "lookup", "list", "count", "get", "retrieve", "search")
_OPENING_WORDS = ("connect", "create_pool", "create_client", "create_engine", "open", "launch", "start_session")
# Functions that run once, before the app serves: nothing else calls them while they wait.
_STARTUP_WORDS = ("lifespan", "startup")
_STARTUP_KEYWORDS = ("lifespan", "on_startup")


class SharedSession(Rule):
    codes = ("AL802",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        self.ctx = ctx
        self.types = table_names(ctx, "single-connection-types", "names")
        gathers = table_names(ctx, "gather-like", "names")
        facts = ctx.facts
        for call, scope in facts.calls:
            if not scope.in_async_function or dotted_name(call.func) is None:
                continue
            if dotted_name(call.func).rsplit(".", 1)[-1] == "gather" and ctx.callee(call, scope) in gathers:
                uses: list[tuple[set[str], bool]] = []
                for arg in call.args:
                    if arg.keyword is not None:
                        continue
                    if arg.star == "*":
                        if isinstance(arg.value, _COMPREHENSIONS):
                            uses.append((self._sessions(arg.value.elt, scope, self._bound_in(arg.value)), True))
                    elif not arg.star:
                        uses.append((self._sessions(arg.value, scope), False))
                shared = _shared(uses)
                if shared:
                    yield self._report(call, shared, "awaitables of this `gather()`")
        for with_node, scope in facts.withs:
            if with_node.asynchronous is None or not scope.in_async_function:
                continue
            for item in with_node.items:
                if (item.asname is not None and isinstance(item.asname.name, cst.Name)
                        and ctx.type_of(item.item, scope) == "asyncio.TaskGroup"):
                    yield from self._task_group(with_node, item.asname.name.value, scope)

    def _task_group(self, with_node: cst.With, group: str, scope: Scope) -> Iterator[Report]:
        uses: list[tuple[set[str], bool]] = []
        for node in _in_order(with_node.body):
            if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                    and node.func.attr.value == "create_task" and isinstance(node.func.value, cst.Name)
                    and node.func.value.value == group and positional(node)):
                continue
            in_loop = self._in_loop(node, with_node)
            uses.append((self._sessions(positional(node)[0].value, scope), in_loop))
            shared = _shared(uses)
            if shared:
                yield self._report(node, shared, f"tasks of the `TaskGroup` `{group}`")
                return

    def _in_loop(self, node: cst.CSTNode, stop: cst.CSTNode) -> bool:
        for ancestor in self.ctx.facts.ancestors(node):
            if ancestor is stop:
                return False
            if isinstance(ancestor, (cst.For, cst.While)):
                return True
        return False

    @staticmethod
    def _bound_in(comp: cst.CSTNode) -> set[str]:
        """Names bound by a comprehension's `for` targets (each element has its own)."""
        out: set[str] = set()
        for node in walk(comp):
            if isinstance(node, cst.CompFor):
                out |= {n.value for n in walk(node.target) if isinstance(n, cst.Name)}
        return out

    def _sessions(self, expr: cst.BaseExpression, scope: Scope, local: frozenset[str] | set[str] = frozenset(),
                  depth: int = 0) -> set[str]:
        """The session receivers (by their dotted text) the awaitable `expr` uses."""
        ctx = self.ctx
        if isinstance(expr, cst.Await):
            expr = expr.expression
        if isinstance(expr, cst.Name) and depth == 0:
            found = ctx.resolver.lookup(expr.value, scope)
            if found is not None and found[0] is scope and len(found[1]) == 1 and found[1][0][0] == "assign":
                value = found[1][0][1]
                if isinstance(value, cst.Call) and ctx.callee(value, scope) in _TASK_FACTORIES:
                    return self._sessions(value, scope, local, depth)
            return set()
        if not isinstance(expr, cst.Call) or depth > 2:
            return set()
        if ctx.callee(expr, scope) in _TASK_FACTORIES or (
                isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("create_task", "wait_for",
                                                                                    "shield")):
            args = positional(expr)
            return self._sessions(args[0].value, scope, local, depth + 1) if args else set()
        out: set[str] = set()
        func = expr.func
        if isinstance(func, cst.Attribute) and self._is_session(func.value, scope, local):
            out.add(dotted_name(func.value) or "")
        for arg in expr.args:
            if not arg.star and self._is_session(arg.value, scope, local):
                out.add(dotted_name(arg.value) or "")
        out.discard("")
        return out

    def _is_session(self, node: cst.BaseExpression, scope: Scope, local: frozenset[str] | set[str]) -> bool:
        name = dotted_name(node)
        if name is None or name.split(".", 1)[0] in local:
            return False
        return self.ctx.type_of(node, scope) in self.types

    @staticmethod
    def _report(node: cst.CSTNode, shared: str, what: str) -> Report:
        return Report("AL802", node,
                      f"`{shared}` is used by several {what}, which run concurrently: a session or connection "
                      "carries one query at a time, so they fail (\"concurrent operations are not permitted\", "
                      "\"another operation is in progress\") or interleave their transactions",
                      "await the queries one after the other, or give each task its own session (or use a pool)")


def _in_order(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node`'s subtree in source order (pre-order), nested functions and classes not entered."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and isinstance(current, NESTED_SCOPES):
            continue
        stack.extend(reversed(list(children(current))))


def _shared(uses: list[tuple[set[str], bool]]) -> str | None:
    """A session used by two awaitables, or by one that stands for many (a comprehension, a loop)."""
    counts: dict[str, int] = {}
    for sessions, many in uses:
        for session in sessions:
            counts[session] = counts.get(session, 0) + (2 if many else 1)
    shared = sorted(name for name, count in counts.items() if count > 1)
    return shared[0] if shared else None


def _startup_handlers(ctx: FileContext) -> set[str]:
    """Names handed to `lifespan=` or `on_startup=` anywhere in the module (`FastAPI(lifespan=setup)`,
    `Starlette(on_startup=[connect_all])`)."""
    names: set[str] = set()
    for call, _ in ctx.facts.calls:
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value not in _STARTUP_KEYWORDS:
                continue
            values = ([e.value for e in arg.value.elements] if isinstance(arg.value, (cst.List, cst.Tuple))
                      else [arg.value])
            names.update(v.value for v in values if isinstance(v, cst.Name))
    return names


class CheckThenAct(Rule):
    codes = ("AL803",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        self.ctx = ctx
        quiet: dict[int, bool] = {id(node): not fscope.has_await for node, fscope in ctx.facts.functions
                                  if node.asynchronous is not None and not fscope.has_yield}
        self.quiet = quiet
        startup = _startup_handlers(ctx)
        for node, fscope in ctx.facts.functions:
            if node.asynchronous is None or not fscope.has_await or self._acquires_lock(node, fscope):
                continue
            if node.name.value in startup or any(word in node.name.value.lower() for word in _STARTUP_WORDS):
                continue  # runs once at startup: no concurrent callers
            for stmt in walk(node.body):
                if isinstance(stmt, cst.If):
                    report = self._lazy_init(stmt, fscope, node)
                    if report is not None:
                        yield report

    def _target(self, test: cst.BaseExpression, fscope: Scope) -> str | None:
        """`self.x is None` / `not self.x` / `x is None` for a global or nonlocal `x`: the target's text."""
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            comp = test.comparisons[0]
            if not isinstance(comp.operator, cst.Is) or not is_none(comp.comparator):
                return None
            subject = test.left
        elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            subject = test.expression
        else:
            return None
        if isinstance(subject, cst.Attribute) and isinstance(subject.value, cst.Name):
            owner = subject.value.value
            if owner == fscope.self_name or owner == "cls":
                return dotted_name(subject)
            return None
        if isinstance(subject, cst.Name) and subject.value in fscope.declared_global:
            return subject.value
        return None

    def _lazy_init(self, stmt: cst.If, fscope: Scope, func: cst.FunctionDef) -> Report | None:
        target = self._target(stmt.test, fscope)
        if target is None or self._under_lock(stmt, func, fscope):
            return None
        yielded = False
        # `client = await connect()` in the body: `self.x = client` counts, and is judged by that value.
        awaited_names: dict[str, cst.BaseExpression] = {}
        created: dict[str, cst.BaseExpression] = {}  # locals bound in the body without a wait
        for node in _in_order(stmt.body):
            if self._yields(node, fscope):
                yielded = True
            elif isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                value_yields = any(self._yields(n, fscope) for n in walk(node.value))
                if not any(dotted_name(t) == target for t in targets):
                    names = [t.value for t in targets if isinstance(t, cst.Name)]
                    if value_yields:
                        awaited_names.update((name, node.value) for name in names)
                    else:
                        created.update((name, node.value) for name in names)
                    continue
                # Only a value that comes out of the wait, or one built in this body before it (`client = X(...)`,
                # `await client.ping()`, `self.x = client`): `self._ready = True` after `await setup()` is a flag.
                local = node.value.value if isinstance(node.value, cst.Name) else None
                from_wait = value_yields or local in awaited_names or (yielded and local in created)
                source = (awaited_names.get(local) or created.get(local) or node.value) if local else node.value
                if from_wait and not self._resource(target, source, fscope):
                    return None
                if from_wait and (yielded or value_yields) and not self._under_lock(node, stmt, fscope):
                    return Report(
                        "AL803", stmt.test,
                        f"`{target}` is checked, then assigned after an `await`: concurrent callers all see it "
                        "unset while this one waits, each creates its own (client, pool, connection), the last "
                        "assignment wins and the others leak",
                        "guard the check and the assignment with an `asyncio.Lock` (check again inside it), or "
                        "create it once at startup (lifespan)")
        return None

    def _resource(self, target: str, value: cst.BaseExpression, fscope: Scope) -> bool:
        """Does the assignment store a resource: a target named like one (`self._client`, `_pool`), a value from a
        call named like opening one (`await connect(...)`), or of a client type the catalog knows? A value read
        from somewhere (`await api.read_work_pool(...)`, `fetch_`, `load_`, `get_config`) is data."""
        names = [(dotted_name(n.func) or "").rsplit(".", 1)[-1].lower() for n in walk(value) if isinstance(n, cst.Call)]
        if any(name.startswith(_DATA_VERBS) and not (name.startswith("get") and any(w in name for w in _RESOURCE_WORDS))
               for name in names):  # `get_client()` is a factory, `read_work_pool()` a read
            return False
        last = target.rsplit(".", 1)[-1].lower()
        if any(word in last for word in _RESOURCE_WORDS) or last.lstrip("_") == "db":
            return True
        if any(word in name for name in names for word in _OPENING_WORDS):
            return True
        inner = value.expression if isinstance(value, cst.Await) else value
        return isinstance(inner, cst.Call) and self.ctx.type_of(inner, fscope) in self.ctx.catalog.types

    def _yields(self, node: cst.CSTNode, fscope: Scope) -> bool:
        """A point where the coroutine may suspend: `await f()` (unless `f` is an `async def` of this module that
        never awaits), `async with`, `async for`."""
        if isinstance(node, (cst.With, cst.For)) and node.asynchronous is not None:
            return True
        if not isinstance(node, cst.Await):
            return False
        awaited = node.expression
        if isinstance(awaited, cst.Call):
            found = self._local_coroutine(awaited.func, fscope)
            if found is not None and self.quiet.get(id(found), False):
                return False
        return True

    def _local_coroutine(self, func: cst.BaseExpression, fscope: Scope) -> cst.FunctionDef | None:
        bindings = None
        if isinstance(func, cst.Name):
            found = self.ctx.resolver.lookup(func.value, fscope)
            bindings = found[1] if found is not None else None
        elif (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
              and func.value.value == fscope.self_name and fscope.class_scope is not None):
            bindings = fscope.class_scope.bindings.get(func.attr.value)
        if bindings and len(bindings) == 1 and bindings[0][0] == "def":
            return bindings[0][1]
        return None

    def _under_lock(self, node: cst.CSTNode, stop: cst.CSTNode, fscope: Scope) -> bool:
        """Is `node` inside a `with`/`async with` on a lock, below `stop`?"""
        for ancestor in self.ctx.facts.ancestors(node):
            if ancestor is stop:
                return False
            if isinstance(ancestor, cst.With) and any(self._is_lock(item.item, fscope) for item in ancestor.items):
                return True
        return False

    def _is_lock(self, expr: cst.BaseExpression, fscope: Scope) -> bool:
        if isinstance(expr, cst.Call):
            expr = expr.func.value if isinstance(expr.func, cst.Attribute) else expr.func
        name = dotted_name(expr) or ""
        last = name.rsplit(".", 1)[-1].lower()
        return ("lock" in last or "mutex" in last or "semaphore" in last
                or self.ctx.type_of(expr, fscope) in _LOCK_TYPES)

    def _acquires_lock(self, func: cst.FunctionDef, fscope: Scope) -> bool:
        """`await self._lock.acquire()` ... `release()`: a lock held by hand (not `pool.acquire()`)."""
        for node in walk(func.body):
            if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                    and node.func.attr.value == "acquire" and self._is_lock(node.func.value, fscope)):
                return True
        return False
