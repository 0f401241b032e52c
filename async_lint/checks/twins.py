"""AL108: a sync method called inside `async def` where an async twin exists: on a project class (found
by the project index), or on a library type of the catalog's `[[sync-twins]]` table (LangChain, LlamaIndex)."""

from __future__ import annotations

from typing import Iterator, NamedTuple

import libcst as cst

from async_lint.catalog import Catalog
from async_lint.checks import DEFERRED_FIXES, Rule
from async_lint.checks._util import not_serving
from async_lint.checks.blocking import in_thread_lock_block, result_may_be_awaited
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import awaited, in_generator_expression
from async_lint.fix.spec import FixSpec
from async_lint.index_flow import twin_names
from async_lint.walker import Scope, dotted_name


class CatalogTwin(NamedTuple):
    twin: str
    form: str  # "await" | "async-for" | "none": how the twin is used (see `[[sync-twins]]`)
    library: str


def catalog_twins(catalog: Catalog) -> dict[tuple[str, str], CatalogTwin]:
    """(type, sync method) -> its async twin, from the catalog's `[[sync-twins]]` table."""
    cache = catalog.__dict__.setdefault("_pattern_tables", {})
    if "_sync_twins" not in cache:
        out: dict[tuple[str, str], CatalogTwin] = {}
        for entry in catalog.tables.get("sync-twins", []):
            for type_name in entry["types"]:
                for method, twin in entry["twins"].items():
                    out[(type_name, method)] = CatalogTwin(twin, entry.get("form", "await"), entry["library"])
        cache["_sync_twins"] = out
    return cache["_sync_twins"]


def twin_fix(call: cst.Call, scope: Scope, ctx: FileContext, twin: str, form: str = "await") -> FixSpec | None:
    """`obj.invoke(x)` -> `await obj.ainvoke(x)`; `for c in obj.stream(x):` -> `async for c in obj.astream(x):`.
    Unsafe: the twin is another method, which may differ in what it does. None inside a generator expression or
    a thread lock's `with` block (an `await` there), and for a twin used in another way."""
    func = call.func
    if not isinstance(func, cst.Attribute) or form == "none":
        return None
    facts = ctx.facts
    if in_generator_expression(call, facts) or in_thread_lock_block(call, scope, ctx):
        return None
    renamed = call.with_changes(func=func.with_changes(attr=cst.Name(twin)))
    if form == "async-for":
        loop = facts.parent_of(call)
        if not (isinstance(loop, cst.For) and loop.iter is call and loop.asynchronous is None):
            return None
        return FixSpec(f"Iterate the async twin: `async for ... in ....{twin}(...)`", "unsafe",
                       replacements=[(call, renamed)], insertions=[(loop, "async ")])
    return FixSpec(f"Await the async twin: `await ....{twin}(...)`", "unsafe",
                   replacements=[(call, awaited(renamed, call, facts))])


def project_twin_fix(call: cst.Call, scope: Scope, ctx: FileContext, twin: str) -> FixSpec | None:
    """The deferred fix of a project twin: the index confirmed an `async def` twin that returns a coroutine."""
    return twin_fix(call, scope, ctx, twin)


DEFERRED_FIXES["twin"] = project_twin_fix


def _called_methods(ctx: FileContext) -> dict[int, dict[str, set[str]]]:
    """Per function scope: receiver (as written) -> the methods called on it (`queue.close()`, `queue.aclose()`)."""
    out: dict[int, dict[str, set[str]]] = {}
    for call, scope in ctx.facts.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and scope.in_async_function:
            receiver = dotted_name(func.value)
            if receiver is not None:
                out.setdefault(id(scope), {}).setdefault(receiver, set()).add(func.attr.value)
    return out


def _asks_local(call: cst.Call, keywords: set[str]) -> bool:
    """A keyword of `[[sync-twin-local-keywords]]` set to True: the call asks for the local, in-memory path."""
    return any(arg.keyword is not None and arg.keyword.value in keywords and isinstance(arg.value, cst.Name)
               and arg.value.value == "True" for arg in call.args)


def _code(node: cst.BaseExpression, receiver: str) -> str:
    """How to show a receiver that is no dotted name (`store.as_retriever()`): its code when short, else its type."""
    code = cst.Module([]).code_for_node(node)
    return code if len(code) <= 40 and "\n" not in code else receiver.rsplit(".", 1)[-1]


class SyncTwin(Rule):
    codes = ("AL108",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        project = ctx.resolver.project_lookup
        known = catalog_twins(ctx.catalog)
        local_keywords = {k for entry in ctx.catalog.tables.get("sync-twin-local-keywords", [])
                          for k in entry["keywords"]}
        called = _called_methods(ctx)
        for call, scope in ctx.facts.calls:
            func = call.func
            if not scope.in_async_function or not isinstance(func, cst.Attribute):
                continue
            if isinstance(ctx.facts.parent_of(call), cst.Await):
                continue
            receiver = ctx.type_of(func.value, scope)
            if receiver is None:
                continue
            method = func.attr.value
            # the catalog first: linting langchain_core itself, its `Runnable` is both
            library = known.get((receiver, method))
            if library is None and (project is None or project(receiver) is None):
                continue
            if result_may_be_awaited(call, scope, ctx) or not_serving(ctx, scope):
                continue
            twins = (library.twin,) if library is not None else twin_names(method)
            if scope.name in twins:
                continue  # the twin's own body (a default `async def afoo(self): return self.foo()`)
            receiver_name = dotted_name(func.value)
            if receiver_name is not None and not called.get(id(scope), {}).get(receiver_name, set()).isdisjoint(twins):
                continue  # the function calls the twin too: it picks one on purpose (a sync-only mode, a close
                # before the `aclose`), or runs both (the sync callbacks, then the async ones)
            if _asks_local(call, local_keywords):
                continue  # `cache.get_cache(key, local_only=True)`: the in-memory path waits for nothing
            shown = dotted_name(func) or f"{_code(func.value, receiver)}.{method}"
            owner = shown.rpartition(".")[0] or "obj"
            if library is not None:
                use = f"async for ... in {owner}.{library.twin}(...)" if library.form == "async-for" else \
                    f"await {owner}.{library.twin}(...)"
                yield Report(
                    "AL108", call,
                    f"`{shown}()` is the sync twin of `{owner}.{library.twin}()` ({library.library}) and runs on "
                    f"the event loop in `async def {scope.name}`",
                    f"use `{use}`",
                    fix=twin_fix(call, scope, ctx, library.twin, library.form),
                )
                continue
            yield Report(
                "AL108", call,
                f"`{shown}()` is the sync twin of `{owner}.{{twin}}()` and runs on the event loop in "
                f"`async def {scope.name}`",
                f"use `await {owner}.{{twin}}(...)`",
                defer=("sync-twin", f"{receiver}\0{method}"),
                deferred_fix="twin",
            )
