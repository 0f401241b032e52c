"""AL109: known CPU-heavy calls (password hashing, key derivation, image processing) inside `async def`.

The calls come from the catalog's `[[cpu-bound]]` table (rules/AL1-blocking.toml), matched on the resolver's
qualified callee like the `[[blocking]]` table of AL101-AL106; receivers are typed through rules/types.toml
(`pwd_context = CryptContext(...)`, `ph = PasswordHasher()`, `img = Image.open(...)`).

A module-level instance imported from another module (`from app.security import pwd_context`) is typed there:
each file publishes `module.var.method` for its instances' CPU-heavy methods.

Sync helpers are followed the way users write them (`verify_password()` around `pwd_context.verify()`): every
file publishes the qualified names of its sync functions that do such work, directly or through other sync
functions of the same file; an `async def` calling one of them is reported at once when it is in the same file,
else deferred until the project index confirms that the helper's module published it (one module away; chains
that cross more modules are not followed). The table is kept apart from `[[blocking]]` so that AL107's helper
chains stay what they were.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import qualified, strip_call, table, tail
from async_lint.checks.blocking import blocking_fix
from async_lint.checks.helpers import helper_fix
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.walker import Scope, dotted_name

HELPERS_KEY = "cpu-bound-helpers"  # qualified names of sync functions that do CPU-heavy work
HELPER_NAMES_KEY = "cpu-bound-helper-names"  # their short names: the word the project pass searches files for
# `pwd_context = CryptContext(...)` at module level: `module.pwd_context.verify` for each CPU-heavy method, and the
# variable's name (the word searched for).
METHODS_KEY = "cpu-bound-instance-methods"
INSTANCE_NAMES_KEY = "cpu-bound-instance-names"
RUNS_ONCE = frozenset({"functools.cache", "functools.lru_cache", "functools.cached_property"})
MAX_LOCAL_DEPTH = 4
GENERIC_METHODS = frozenset({"save", "convert", "filter", "transform", "reduce"})


def _cpu_entry(ctx: FileContext, call: cst.Call, scope: Scope) -> dict | None:
    if isinstance(ctx.facts.parent_of(call), cst.Await):
        return None
    callee = ctx.callee(call, scope)
    return ctx.catalog.pattern_table("cpu-bound").get(callee) if callee else None


def _qualname(ctx: FileContext, fscope: Scope) -> str:
    module = ctx.resolver.module_name
    return f"{module}.{fscope.qualname}" if module else fscope.qualname


def _runs_once(ctx: FileContext, fscope: Scope) -> bool:
    node = fscope.node
    outer = fscope.parent or fscope
    return isinstance(node, cst.FunctionDef) and any(
        qualified(ctx, strip_call(d.decorator), outer) in RUNS_ONCE for d in node.decorators)


def local_helpers(ctx: FileContext) -> dict[str, str]:
    """Sync functions of this file doing CPU-heavy work: qualified name -> what they reach (`bcrypt.hashpw`, or
    `other_helper → bcrypt.hashpw`)."""
    cache = ctx.__dict__.setdefault("_cpu_cache", {})
    if "helpers" in cache:
        return cache["helpers"]
    direct: dict[str, str] = {}
    edges: dict[str, list[str]] = {}
    once: dict[int, bool] = {}
    for call, scope in ctx.facts.calls:
        fscope = scope.function
        if fscope is None or fscope.kind != "function" or fscope.is_async:
            continue
        key = id(fscope)
        if key not in once:
            once[key] = _runs_once(ctx, fscope)
        if once[key]:
            continue
        name = _qualname(ctx, fscope)
        entry = _cpu_entry(ctx, call, scope)
        if entry is not None:
            direct.setdefault(name, dotted_name(call.func) or ctx.callee(call, scope) or "?")
            continue
        callee = ctx.callee(call, scope)
        if callee and not isinstance(ctx.facts.parent_of(call), cst.Await):
            edges.setdefault(name, []).append(callee)
    found = dict(direct)
    for _ in range(MAX_LOCAL_DEPTH):
        grown = False
        for name, callees in edges.items():
            if name in found:
                continue
            reached = next((c for c in callees if c in found), None)
            if reached is not None:
                found[name] = f"{tail(reached)} → {found[reached]}"
                grown = True
        if not grown:
            break
    cache["helpers"] = found
    return found


def instance_methods(ctx: FileContext) -> tuple[set[str], set[str]]:
    """Module-level instances of a type with CPU-heavy methods: (`module.var.method` names, variable names)."""
    methods: dict[str, list[str]] = {}
    for entry in table(ctx, "cpu-bound"):
        for call in entry.get("calls", ()):
            owner, _, method = call.rpartition(".")
            if owner and "*" not in call:
                methods.setdefault(owner, []).append(method)
    module = ctx.resolver.module_name
    scope = ctx.facts.module_scope
    found: set[str] = set()
    names: set[str] = set()
    for name, bindings in scope.bindings.items():
        if not module or not all(kind in ("assign", "ann") for kind, _ in bindings):
            continue
        typed = ctx.resolver.name_type(name, scope)
        if typed in methods:
            names.add(name)
            found.update(f"{module}.{name}.{method}" for method in methods[typed])
    return found, names


def instance_method_names(ctx: FileContext) -> frozenset[str]:
    """CPU-heavy method names worth a question to the index; not the generic ones (`save`, `convert`, `filter`),
    which would make the project pass parse every file naming their receivers."""
    cache = ctx.catalog.__dict__.setdefault("_cpu_methods", {})
    if "names" not in cache:
        names = {call.rpartition(".")[2] for entry in table(ctx, "cpu-bound") for call in entry.get("calls", ())}
        cache["names"] = frozenset(names - GENERIC_METHODS)
    return cache["names"]


class CpuBound(Rule):
    codes = ("AL109",)

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        helpers = local_helpers(ctx)
        methods, instances = instance_methods(ctx)
        return {HELPERS_KEY: set(helpers), HELPER_NAMES_KEY: {tail(name) for name in helpers},
                METHODS_KEY: methods, INSTANCE_NAMES_KEY: instances}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        project = ctx.resolver.project_lookup
        blocking = ctx.catalog.blocking
        for call, scope in ctx.facts.calls:
            if not scope.in_async_function or isinstance(ctx.facts.parent_of(call), cst.Await):
                continue
            callee = ctx.callee(call, scope)
            if callee is None:
                continue
            shown = dotted_name(call.func) or callee
            entry = ctx.catalog.pattern_table("cpu-bound").get(callee)
            if entry is not None:
                yield Report(
                    "AL109", call,
                    f"`{shown}()` runs {entry['what']} on the event loop in `async def {scope.name}`: "
                    f"{entry['why']}, and every other request waits meanwhile",
                    f"run it in a thread: {entry['suggest']}",
                    fix=blocking_fix("AL109", callee, call, scope, ctx),
                )
                continue
            if project is None or not project(callee) or blocking.get(callee) is not None:
                continue
            helpers = local_helpers(ctx)
            message = (f"`{shown}()` runs CPU-heavy work on the event loop in `async def {scope.name}` through a "
                       f"sync helper{{chain}}, and every other request waits meanwhile")
            suggestion = f"run it in a thread: `await asyncio.to_thread({shown}, ...)` (or `run_in_threadpool`)"
            if callee in helpers:
                yield Report("AL109", call, message.replace("{chain}", f": {tail(callee)} → {helpers[callee]}"),
                             suggestion, fix=helper_fix(call, scope, ctx))
            elif not callee.startswith(f"{ctx.resolver.module_name}."):
                # Another module's helper function, or a method of an instance defined there (`pwd_context` of
                # `app.security`): at most one of the two questions can be confirmed.
                yield Report("AL109", call, message.replace("{chain}", f" (`{tail(callee)}`)"), suggestion,
                             defer=("unless-shared", f"+{HELPERS_KEY}\0{callee}\n+{HELPER_NAMES_KEY}\0{tail(callee)}"),
                             deferred_fix="helper")
                owner, _, method = callee.rpartition(".")
                if "." in owner and method in instance_method_names(ctx):
                    yield Report(
                        "AL109", call,
                        f"`{shown}()` runs CPU-heavy work on the event loop in `async def {scope.name}` "
                        f"(`{tail(owner)}`, defined in `{owner.rpartition('.')[0]}`, hashes passwords or processes "
                        f"images), and every other request waits meanwhile",
                        f"run it in a thread: `await asyncio.to_thread({shown}, ...)` (or `run_in_threadpool`)",
                        defer=("unless-shared", f"+{METHODS_KEY}\0{callee}\n+{INSTANCE_NAMES_KEY}\0{tail(owner)}"),
                        deferred_fix="helper")
