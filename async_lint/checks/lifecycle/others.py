"""AL403 (client built per request), AL405 (aioredis), AL406 (sessionmaker for async sessions)."""

from __future__ import annotations

from typing import Any, Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import imports_module, is_path_operation, keyword, positional, table, table_names, tail, walk
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import local_name, name_taken, remove_arg
from async_lint.fix.spec import FixSpec, ImportNeed
from async_lint.walker import dotted_name

DEPENDENCIES_KEY = "fastapi-dependencies"  # names of functions used in Depends(...) / Security(...)


# ---------------------------------------------------------------------------------------------------- AL403
class ClientPerRequest(Rule):
    codes = ("AL403",)

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        names: set[str] = set()
        for call, scope in ctx.facts.calls:
            callee = ctx.callee(call, scope) or ""
            if not callee.startswith("fastapi.") or tail(callee) not in ("Depends", "Security"):
                continue
            arg = keyword(call, "dependency")
            args = positional(call)
            target = arg.value if arg is not None else (args[0].value if args else None)
            text = dotted_name(target) if target is not None else None
            if text:
                names.add(tail(text))
        return {DEPENDENCIES_KEY: names}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        kinds: dict[str, str] = {}
        for entry in table(ctx, "per-request"):
            for name in entry.get("types", ()):
                kinds[name] = entry["what"]
        is_web = imports_module(ctx, ("fastapi", "starlette"))
        dependencies: set[str] | None = None
        where: dict[int, str | None] = {}
        for call, scope in ctx.facts.calls:
            func = scope.function
            if func is None or not isinstance(func.node, cst.FunctionDef):
                continue
            key = id(func.node)
            if key not in where:
                label = is_path_operation(func.node) if is_web else None
                if label is None:
                    if dependencies is None:
                        dependencies = ctx.shared(DEPENDENCIES_KEY)
                    if func.name in dependencies and func.parent is not None and func.parent.kind != "function":
                        label = f"dependency `{func.name}`"
                else:
                    label = f"path operation `{label}`"
                where[key] = label
            label = where[key]
            if label is None:
                continue
            typed = ctx.type_of(call, scope)
            what = kinds.get(typed or "")
            if what is None:
                continue
            shown = dotted_name(call.func) or typed
            yield Report(
                "AL403", call,
                f"a new {what} (`{shown}`) is built on every request in the {label}: its connection pool is "
                f"thrown away after each request",
                "create one instance in the lifespan handler and share it (`app.state`, or a dependency that "
                "returns it)",
            )


# ---------------------------------------------------------------------------------------------------- AL405
class DeprecatedAioredis(Rule):
    codes = ("AL405",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        modules = {entry["module"]: entry for entry in table(ctx, "deprecated-modules")}
        for node, _ in ctx.facts.imports:
            if any(isinstance(a, (cst.ExceptHandler, cst.ExceptStarHandler)) for a in ctx.facts.ancestors(node)):
                continue  # `except ImportError: import aioredis`: a fallback for old environments
            if isinstance(node, cst.Import):
                for alias in node.names:
                    name = dotted_name(alias.name) or ""
                    entry = modules.get(name.split(".", 1)[0])
                    if entry is None:
                        continue
                    asname = alias.asname.name.value if alias.asname is not None and isinstance(
                        alias.asname.name, cst.Name) else None
                    if "." not in name:
                        replacement = entry["replacement"].format(name=asname or name)
                    else:
                        replacement = _submodule_import(entry, name, asname)
                    report = self._report(node, name, replacement)
                    if "." not in name and len(node.names) == 1 and _same_names(ctx, asname or name, entry):
                        report.fix = FixSpec(f"Replace with `{replacement}`", "safe",
                                             replacements=[(node, replacement)])
                    yield report
                    break
            elif not node.relative and node.module is not None:
                name = dotted_name(node.module) or ""
                entry = modules.get(name.split(".", 1)[0])
                if entry is not None:
                    rest = name.split(".", 1)[1] if "." in name else ""
                    target = entry["submodules"].get(rest, "redis.asyncio." + rest) if rest else "redis.asyncio"
                    report = self._report(node, name, f"from {target} import ...")
                    names = entry["same-names"]
                    if not rest and not isinstance(node.names, cst.ImportStar) and all(
                            dotted_name(alias.name) in names for alias in node.names):
                        report.fix = FixSpec(f"Import from `{target}`", "safe", replacements=[
                            (node.module, cst.parse_expression(target))])
                    yield report

    @staticmethod
    def _report(node: cst.CSTNode, name: str, replacement: str) -> Report:
        return Report("AL405", node,
                      f"`{name}` is deprecated: aioredis is unmaintained and was merged into redis-py as "
                      f"`redis.asyncio` (the last aioredis breaks on Python 3.11)",
                      f"use `{replacement}` (same API, redis>=4.2)")


def _submodule_import(entry: dict[str, Any], name: str, asname: str | None) -> str:
    rest = name.split(".", 1)[1]
    module = entry["submodules"].get(rest, f"redis.asyncio.{rest}")
    return f"import {module}" + (f" as {asname}" if asname else "")


def _same_names(ctx: FileContext, bound: str, entry: dict[str, Any]) -> bool:
    """Does every `aioredis.X` of the file name something `redis.asyncio` has too (aioredis 2's API; not 1.x's
    `create_redis_pool`, nor submodules such as `aioredis.exceptions`)?"""
    names = entry["same-names"]
    for node in walk(ctx.module, into_nested=True):
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == bound:
            if node.attr.value not in names:
                return False
    return True


# ---------------------------------------------------------------------------------------------------- AL406
class SessionmakerForAsyncSession(Rule):
    codes = ("AL406",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        sync = table_names(ctx, "session-factories", "sync")
        async_classes = table_names(ctx, "session-factories", "async-classes")
        for call, scope in ctx.facts.calls:
            if ctx.callee(call, scope) not in sync:
                continue
            arg = keyword(call, "class_")
            if arg is None or not isinstance(arg.value, (cst.Name, cst.Attribute)):
                continue
            cls = ctx.catalog.canonical_type(ctx.resolver.qualify(arg.value, scope))
            if cls not in async_classes:
                continue
            yield Report("AL406", call,
                         f"`{dotted_name(call.func)}(..., class_={dotted_name(arg.value)})` builds async sessions "
                         f"with the sync factory: SQLAlchemy 2.0 has `async_sessionmaker` for that",
                         "use `async_sessionmaker(...)` from `sqlalchemy.ext.asyncio` and drop `class_=`",
                         fix=_async_sessionmaker_fix(ctx, call, arg))


ASYNC_SESSIONMAKER = "sqlalchemy.ext.asyncio.async_sessionmaker"


def _async_sessionmaker_fix(ctx: FileContext, call: cst.Call, arg: cst.Arg) -> FixSpec | None:
    """`sessionmaker(engine, class_=AsyncSession, ...)` -> `async_sessionmaker(engine, ...)` (safe: the same
    parameters, and `AsyncSession` is its default class), importing it in the file's style."""
    parent = ctx.facts.parent_of(call)
    outer = ctx.facts.parent_of(parent) if isinstance(parent, cst.Arg) else None
    if isinstance(outer, cst.Call) and tail(dotted_name(outer.func) or "").endswith("scoped_session"):
        return None  # scoped_session(async factory) would need async_scoped_session too
    imports = []
    name = local_name(ctx.facts, ASYNC_SESSIONMAKER)
    if name is None:
        name = "async_sessionmaker"
        if name_taken(ctx.facts, name, ASYNC_SESSIONMAKER):
            return None
        imports = [ImportNeed("sqlalchemy.ext.asyncio", name)]
    index = next(i for i, a in enumerate(call.args) if a is arg)
    new = remove_arg(call, index).with_changes(func=cst.Name(name), lpar=[], rpar=[])
    return FixSpec("Use `async_sessionmaker(...)` and drop `class_=`", "safe", replacements=[(call, new)],
                   imports=imports)
