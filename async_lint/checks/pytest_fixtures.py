"""AL705-AL707: test set-ups that do not do what they look like.

AL705: an `async def` fixture under plain `@pytest.fixture` while pytest-asyncio runs in strict mode (its default):
pytest-asyncio leaves it alone, so tests receive an un-run coroutine or async generator. The mode is read like
AL701 does (checks/testing.py); files that use anyio's or trio's pytest plugin (which run such fixtures) are left
alone.

AL706: `websocket_connect()` on an `httpx.AsyncClient` (the receiver typed by the resolver, or a test parameter
naming a fixture that returns one): httpx has no websocket support.

AL707: an SQLAlchemy engine on an in-memory SQLite database whose pool hands out more than one connection: each
connection is a new, empty database. The pysqlite default for `:memory:` is SingletonThreadPool (one connection,
so one database, per thread): reported when the engine is used across threads (`check_same_thread=False`, or
the file imports a web framework or a test client that runs the app in another thread). aiosqlite's default for
`:memory:` is already StaticPool: reported only when another `poolclass=` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import has_star_kwargs, imports_module, keyword, positional, qualified, strip_call, \
    table, table_names, tail, walk
from async_lint.checks.testing import runs_every_async_test
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import add_keyword, local_name, spelled
from async_lint.fix.spec import FixSpec
from async_lint.walker import Scope, dotted_name

ASYNC_CLIENT_FIXTURES_KEY = "httpx-async-client-fixtures"  # fixtures that return/yield an httpx.AsyncClient
OTHER_FIXTURES_KEY = "other-fixtures"  # fixtures that return something else (a name may be defined twice)
ASYNC_CLIENT = "httpx.AsyncClient"
PLUGIN_WORDS = frozenset({"anyio", "anyio_backend", "trio", "pytest_trio"})


def _fixture_name(ctx: FileContext, node: cst.FunctionDef, scope: Scope, decorators: frozenset[str]) -> str | None:
    """The name a fixture is requested by (`name=` of the decorator, else the function's), or None if `node` is
    no fixture."""
    for decorator in node.decorators:
        expr = decorator.decorator
        if qualified(ctx, strip_call(expr), scope) in decorators:
            arg = keyword(expr, "name") if isinstance(expr, cst.Call) else None
            if arg is not None and isinstance(arg.value, cst.SimpleString):
                value = arg.value.evaluated_value
                return value if isinstance(value, str) else None
            return node.name.value
    return None


def _returns_async_client(ctx: FileContext, node: cst.FunctionDef, fscope: Scope) -> bool:
    """Every value the fixture returns or yields is an `httpx.AsyncClient` (and there is one)."""
    values = [n.value for n in walk(node.body) if isinstance(n, (cst.Return, cst.Yield)) and n.value is not None]
    return bool(values) and all(isinstance(v, cst.BaseExpression) and ctx.type_of(v, fscope) == ASYNC_CLIENT
                                for v in values)


class HttpxWebsocket(Rule):
    codes = ("AL706",)

    def _fixtures(self, ctx: FileContext) -> tuple[set[str], set[str]]:
        decorators = table_names(ctx, "fixture-decorators", "names")
        clients: set[str] = set()
        others: set[str] = set()
        if not ctx.is_test_file:
            return clients, others
        for node, fscope in ctx.facts.functions:
            outer = fscope.parent
            name = _fixture_name(ctx, node, outer, decorators) if outer is not None else None
            if name is not None:
                (clients if _returns_async_client(ctx, node, fscope) else others).add(name)
        return clients, others

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        clients, others = self._fixtures(ctx)
        return {ASYNC_CLIENT_FIXTURES_KEY: clients, OTHER_FIXTURES_KEY: others}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        local: tuple[set[str], set[str]] | None = None
        for call, scope in ctx.facts.calls:
            defer = None
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "websocket_connect"):
                continue
            typed = ctx.callee(call, scope) == f"{ASYNC_CLIENT}.websocket_connect"
            receiver = func.value
            if not typed and ctx.is_test_file and isinstance(receiver, cst.Name):
                found = ctx.resolver.lookup(receiver.value, scope)
                if found is None or not all(b == ("param", None) for b in found[1]):
                    continue
                if local is None:
                    local = self._fixtures(ctx)
                name = receiver.value
                if name in local[0] | local[1]:
                    typed = name in local[0] and name not in local[1]
                else:
                    # A fixture of another file (a conftest): the project index confirms it returns an AsyncClient.
                    typed = True
                    defer = ("if-shared", f"{ASYNC_CLIENT_FIXTURES_KEY}\0{name}\0{OTHER_FIXTURES_KEY}")
            if not typed:
                continue
            shown = dotted_name(func) or "websocket_connect"
            yield Report("AL706", call,
                         f"`{shown}()` on an `httpx.AsyncClient`: httpx has no websocket support, so this raises "
                         f"AttributeError",
                         "test websocket routes with Starlette's/FastAPI's `TestClient(app).websocket_connect(...)`, "
                         "or with `httpx_ws.aconnect_ws(url, client)` from the httpx-ws package", defer=defer)


class TestSetups(Rule):
    codes = ("AL705", "AL707")

    def check(self, ctx: FileContext) -> Iterator[Report]:
        if "AL705" in self.enabled and ctx.is_test_file:
            yield from self._strict_fixtures(ctx)
        if "AL707" in self.enabled:
            yield from self._sqlite_engines(ctx)

    # ------------------------------------------------------------------ AL705
    def _strict_fixtures(self, ctx: FileContext) -> Iterator[Report]:
        plain = table_names(ctx, "strict-mode-fixture-decorators", "names")
        strict: bool | None = None
        for node, fscope in ctx.facts.functions:
            outer = fscope.parent
            if node.asynchronous is None or outer is None:
                continue
            for decorator in node.decorators:
                expr = strip_call(decorator.decorator)
                if not isinstance(expr, (cst.Name, cst.Attribute)) or qualified(ctx, expr, outer) not in plain:
                    continue
                if strict is None:
                    strict = self._strict(ctx)
                if not strict:
                    return
                yield Report("AL705", decorator,
                             f"async fixture `{node.name.value}` uses `@{dotted_name(expr)}` while pytest-asyncio "
                             f"is in strict mode (its default): pytest-asyncio does not run it, so tests get an "
                             f"un-awaited coroutine or async generator instead of its value",
                             "use `@pytest_asyncio.fixture` (or set `asyncio_mode = \"auto\"` in the pytest "
                             "configuration)",
                             fix=self._strict_fix(ctx, expr))
                break

    @staticmethod
    def _strict(ctx: FileContext) -> bool:
        """pytest-asyncio's strict mode governs this file, and no other plugin (anyio, trio) runs its fixtures."""
        folder = str(Path(ctx.path).resolve().parent)
        if runs_every_async_test(folder, table(ctx, "async-test-markers")):
            return False
        if imports_module(ctx, PLUGIN_WORDS):
            return False
        for node in walk(ctx.facts.module, into_nested=True):
            if isinstance(node, cst.Name) and node.value in PLUGIN_WORDS:
                return False  # `@pytest.mark.anyio`, an `anyio_backend` fixture
            if isinstance(node, cst.Attribute) and node.attr.value in PLUGIN_WORDS:
                return False
        return True

    @staticmethod
    def _strict_fix(ctx: FileContext, expr: cst.BaseExpression) -> FixSpec | None:
        """`@pytest.fixture(...)` -> `@pytest_asyncio.fixture(...)` (safe: it takes the same arguments), spelled as
        the file imports pytest_asyncio, else with `import pytest_asyncio` added."""
        found = spelled(ctx.facts, "pytest_asyncio.fixture")
        if found is None:
            return None
        written, imports = found
        return FixSpec(f"Use `@{written}`", "safe", replacements=[(expr, written)], imports=imports)

    # ------------------------------------------------------------------ AL707
    def _sqlite_engines(self, ctx: FileContext) -> Iterator[Report]:
        sync = table_names(ctx, "sqlite-engine-factories", "sync")
        engines = sync | table_names(ctx, "sqlite-engine-factories", "async")
        threaded = table_names(ctx, "sqlite-engine-factories", "threaded-imports")
        uses_threads: bool | None = None
        for call, scope in ctx.facts.calls:
            if tail(dotted_name(call.func)) not in ("create_engine", "create_async_engine"):
                continue
            callee = ctx.callee(call, scope)
            if callee not in engines or has_star_kwargs(call):
                continue
            driver = self._memory_driver(ctx, call, scope)
            if driver is None:
                continue
            pool = keyword(call, "poolclass")
            shown = dotted_name(call.func) or tail(callee)
            if pool is not None:
                pool_name = tail(qualified(ctx, pool.value, scope)) if isinstance(
                    pool.value, (cst.Name, cst.Attribute)) else ""
                if pool_name not in ("NullPool", "QueuePool", "AsyncAdaptedQueuePool"):
                    continue  # StaticPool, an explicit SingletonThreadPool, or something we cannot see
                yield Report("AL707", call,
                             f"`{shown}()` on an in-memory SQLite database with `poolclass={pool_name}`: every new "
                             f"connection opens a new, empty database, so tables created on one are missing on the "
                             f"next (\"no such table\")",
                             "use `poolclass=StaticPool` (from sqlalchemy.pool) so every session shares the one "
                             "connection, or a file database")
                continue
            if driver == "aiosqlite" or callee not in sync:
                continue  # SQLAlchemy already picks StaticPool for aiosqlite's `:memory:`
            connect_args = keyword(call, "connect_args")
            shares_threads = connect_args is not None and self._no_thread_check(connect_args.value)
            if not shares_threads:
                if uses_threads is None:
                    uses_threads = imports_module(ctx, threaded)
                if not uses_threads:
                    continue
            yield Report("AL707", call,
                         f"`{shown}()` on an in-memory SQLite database without `poolclass=StaticPool`: SQLAlchemy "
                         f"gives each thread its own connection, and each connection is a new, empty database, so "
                         f"the app (run in another thread by the test client or the thread pool) does not see the "
                         f"tables the test created (\"no such table\")",
                         "pass `poolclass=StaticPool` (from sqlalchemy.pool) and "
                         "`connect_args={\"check_same_thread\": False}`, or use a file database",
                         fix=self._pool_fix(ctx, call, connect_args))

    @staticmethod
    def _memory_driver(ctx: FileContext, call: cst.Call, scope: Scope) -> str | None:
        """The driver ("" for the default) when the engine's URL is a literal in-memory SQLite URL, else None."""
        arg = keyword(call, "url")
        args = positional(call)
        if arg is None and args:
            arg = args[0]
        if arg is None:
            return None
        value: cst.BaseExpression | None = arg.value
        if isinstance(value, cst.Name):
            found = ctx.resolver.lookup(value.value, scope)
            bindings = found[1] if found is not None else []
            value = bindings[0][1] if len(bindings) == 1 and bindings[0][0] == "assign" else None
        if not isinstance(value, cst.SimpleString):
            return None
        url = value.evaluated_value
        if not isinstance(url, str) or "://" not in url:
            return None
        scheme, rest = url.split("://", 1)
        dialect, _, driver = scheme.partition("+")
        if dialect != "sqlite" or driver not in ("", "pysqlite", "aiosqlite"):
            return None
        database = rest.split("?", 1)[0]
        if database not in ("", "/", "/:memory:"):
            return None  # a file (`sqlite:///./app.db`), or a shared-cache URI (`file::memory:?cache=shared`)
        return driver

    @staticmethod
    def _no_thread_check(value: cst.BaseExpression) -> bool:
        """`connect_args={"check_same_thread": False}` (a dict literal, or `dict(check_same_thread=False)`)."""
        def false(node: cst.BaseExpression) -> bool:
            return isinstance(node, cst.Name) and node.value == "False"

        if isinstance(value, cst.Dict):
            return any(isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                       and e.key.evaluated_value == "check_same_thread" and false(e.value) for e in value.elements)
        if isinstance(value, cst.Call) and dotted_name(value.func) == "dict":
            arg = keyword(value, "check_same_thread")
            return arg is not None and false(arg.value)
        return False

    def _pool_fix(self, ctx: FileContext, call: cst.Call, connect_args: cst.Arg | None) -> FixSpec | None:
        """Add `poolclass=StaticPool` (and `connect_args={"check_same_thread": False}`, which sharing the one
        connection between threads needs) with `from sqlalchemy.pool import StaticPool` (safe)."""
        if connect_args is not None and not self._no_thread_check(connect_args.value):
            return None  # connect_args we cannot extend safely
        facts = ctx.facts
        direct = local_name(facts, "sqlalchemy.StaticPool")
        found = (direct, []) if direct is not None else \
            spelled(facts, "sqlalchemy.pool.StaticPool", import_name=True)
        if found is None:
            return None
        written, imports = found
        new = call
        if connect_args is None:
            new = add_keyword(new, "connect_args", cst.parse_expression('{"check_same_thread": False}'))
        new = add_keyword(new, "poolclass", cst.parse_expression(written)) if new is not None else None
        if new is None:
            return None
        title = f"Add `poolclass={written}`" + (" and `connect_args={\"check_same_thread\": False}`"
                                                if connect_args is None else "")
        return FixSpec(title, "safe", replacements=[(call, new)], imports=imports)
