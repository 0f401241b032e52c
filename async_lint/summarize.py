"""A module's entry in the project index, computed from the facts the walker already collected."""

from __future__ import annotations

import libcst as cst

from async_lint.catalog import Catalog
from async_lint import flow
from async_lint.checks.blocking import blocking_entry
from async_lint.checks.nonblocking import in_dev_only_branch, in_run_once_guard
from async_lint.index import ClassSummary, FunctionSummary, ModuleSummary
from async_lint.resolve import Resolver
from async_lint.walker import Facts, dotted_name, short_name

MAX_CALLS = 200
# A function cached by these runs its body once per argument set: a blocking call there is a one-off (AL107).
RUNS_ONCE = frozenset({"functools.cache", "functools.lru_cache"})
# Calls that return an awaitable: a sync function returning one is a dispatch function, not a blocking one.
AWAITABLE_FACTORIES = frozenset({"asyncio.ensure_future", "asyncio.create_task", "asyncio.gather",
                                 "asyncio.wait_for", "asyncio.shield", "asyncio.sleep", "asyncio.to_thread",
                                 "asyncio.wrap_future"})
AWAITABLE_METHODS = frozenset({"create_task", "run_in_executor", "create_future"})


def returned_call(call: cst.Call, facts: Facts) -> bool:
    """Is the call's value what its function returns (`return f()`, `return f() if ok else g()`)?"""
    node: cst.CSTNode = call
    for parent in facts.ancestors(call):
        if isinstance(parent, cst.Return):
            return True
        if not (isinstance(parent, cst.IfExp) and node is not parent.test
                or isinstance(parent, cst.BooleanOperation)):
            return False
        node = parent
    return False


def is_awaited(call: cst.Call, facts: Facts) -> bool:
    return isinstance(facts.parent_of(call), cst.Await)


def settle_lines(summary: ModuleSummary, positions: dict[int, tuple[int, int, int, int]]) -> None:
    """Give each function's first blocking call (and its preview attribute calls) its line, from positions the
    engine computed."""
    for qualname, call, slot in summary.pending_lines:
        fn = summary.functions[qualname]
        line = positions[id(call)][0]
        if slot >= 0:
            calls = list(fn.attr_calls)
            calls[slot] = (calls[slot][0], calls[slot][1], line)
            fn.attr_calls = tuple(calls)
        elif fn.blocking is not None:
            fn.blocking = (fn.blocking[0], fn.blocking[1], line)
    summary.pending_lines = []


def summarize(facts: Facts, resolver: Resolver, catalog: Catalog, path: str, module: str, is_package: bool,
              is_project, enabled: frozenset[str] | None = None, preview: bool = False) -> ModuleSummary:
    """`enabled`: the blocking codes to follow (None: all; the engine passes the selected and default-on codes). A
    function's blocking call is its first one of such a code, so AL107 follows no chain ending in `open()` while
    the opt-in AL110 is off. `preview`: also the facts of async_lint.flow (issue 13)."""
    summary = ModuleSummary(module=module, path=path, is_package=is_package)
    for name, bindings in facts.module_scope.bindings.items():
        imported = [payload for kind, payload in bindings if kind == "import"]
        if len(imported) == 1 and len(bindings) == 1:
            summary.imports[name] = resolver._absolute(imported[0])
        elif not imported and bindings[0][0] in ("assign", "ann"):
            typed = resolver.name_type(name, facts.module_scope)
            if typed is not None:
                summary.variables[name] = typed

    non_coroutine = catalog.pattern_table("non-coroutine-decorators")
    consumers = catalog.pattern_table("coroutine-consumers")
    init_attrs: dict[int, dict[str, str]] = {}
    by_scope = {}
    for node, fscope in facts.functions:
        qualname = f"{module}.{fscope.qualname}"
        decorators = []
        for decorator in node.decorators:
            expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
            decorators.append(resolver.qualify(expr, fscope.parent) or dotted_name(expr) or "")
        wraps = any(non_coroutine.get(d) is not None for d in decorators)
        fn = FunctionSummary(
            qualname=qualname,
            is_async=fscope.is_async,
            returns_coroutine=fscope.is_async and not fscope.has_yield and not wraps,
            may_return_callable=fscope.defines_callable,
            runs_once=any(d in RUNS_ONCE for d in decorators),
        )
        summary.functions[qualname] = fn
        by_scope[id(fscope)] = fn
        bound = fscope.self_name is not None
        # AL108 needs it in any mode (an abstract sync/async pair); AL107 follows overrides only in preview
        fn.abstract = bound and flow.is_abstract(node, decorators)
        if preview:
            fn.params = flow.positional_params(node, bound)
            fn.instance_method = bound and "classmethod" not in {d.rsplit(".", 1)[-1] for d in decorators}
            fn.param_uses = flow.param_uses(node, fscope, facts, resolver, is_project, consumers)
            if bound and node.name.value == "__init__":
                init_attrs[id(fscope.class_scope)] = flow.init_attrs(node, fscope, facts)

    # Direct calls of sync functions: the first blocking one, and the project functions they call.
    blocking_nodes: dict[int, tuple[FunctionSummary, cst.Call, str, str, int]] = {}
    calls: dict[int, list[str]] = {}
    returned: dict[int, list[str]] = {}
    pending_attrs: dict[int, list] = {}
    for locator, (call, scope) in enumerate(facts.calls):
        if is_awaited(call, facts):
            func = call.func
            short = short_name(func)
            if dotted_name(func) and short:
                summary.awaited.add(short)
            owner = by_scope.get(id(scope))
            if owner is not None and owner.is_async and short and short not in owner.awaits \
                    and len(owner.awaits) < 20:
                owner.awaits = (*owner.awaits, short)  # AL108: a twin that only awaits wrappers gains nothing
        if preview:
            _arg_types(call, scope, resolver, is_project, summary)
        fn = by_scope.get(id(scope))
        if fn is not None and fn.is_async and not is_awaited(call, facts):  # for AL108 (a preview rule)
            func = call.func
            if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and scope.self_name
                    and func.value.value == scope.self_name and len(fn.self_calls) < 20):
                fn.self_calls = (*fn.self_calls, func.attr.value)
        if fn is None or fn.is_async:
            continue
        if id(fn) not in blocking_nodes:
            entry = blocking_entry(call, scope, resolver, catalog)
            # Starting a process (`Popen`) waits for nothing: a helper that waits for it later blocks there.
            if entry is not None and (enabled is None or entry.code in enabled) and not entry.starts:
                blocking_nodes[id(fn)] = (fn, call, entry.name, entry.code, locator)
                continue
        callee = resolver.callee(call.func, scope)
        if preview and callee is None and not is_awaited(call, facts) and (found := flow.attr_call(call, scope)):
            # `self.session.query(...)` on an attribute of no known type: typed later by what the constructor's
            # callers pass (ProjectIndex.blocking_chain).
            attrs = pending_attrs.setdefault(id(fn), [])
            if len(attrs) < 20 and not any(a[:2] == found for a, _ in attrs):
                attrs.append(((*found, 0), call))
        if returned_call(call, facts):
            if callee in AWAITABLE_FACTORIES or (isinstance(call.func, cst.Attribute)
                                                 and call.func.attr.value in AWAITABLE_METHODS):
                fn.returns_awaitable = True
            elif callee is not None and is_project(callee):
                returned.setdefault(id(fn), []).append(callee)
        if callee is not None and is_project(callee) and not is_awaited(call, facts) \
                and not in_run_once_guard(call, facts) and not in_dev_only_branch(call, facts, catalog):
            # lazy initialisation runs once, development-only code not in production: not followed (AL107)
            if callee.endswith("partial"):
                fn.may_return_callable = True
            found = calls.setdefault(id(fn), [])
            if callee not in found and len(found) < MAX_CALLS:
                found.append(callee)
        elif callee in ("functools.partial", "functools.partialmethod"):
            fn.may_return_callable = True
    # Lines are filled in by `settle_lines` once the engine computes positions (one codegen pass per file).
    for fn, call, callee, code, locator in blocking_nodes.values():
        fn.blocking = (callee, code, 0)
        fn.blocking_call = locator
        summary.pending_lines.append((fn.qualname, call, -1))
    for fn in summary.functions.values():
        attrs = pending_attrs.get(id(fn), ())
        fn.attr_calls = tuple(a for a, _ in attrs)
        summary.pending_lines.extend((fn.qualname, call, slot) for slot, (_, call) in enumerate(attrs))
        fn.calls = tuple(calls.get(id(fn), ()))
        fn.returned = tuple(list(dict.fromkeys(returned.get(id(fn), ())))[:MAX_CALLS])

    methods: dict[int, list[str]] = {}
    for node, fscope in facts.functions:
        if fscope.class_scope is not None:
            methods.setdefault(id(fscope.class_scope), []).append(node.name.value)
    for node, cscope in facts.classes:
        bases = []
        for arg in node.bases:
            base = resolver.qualify(arg.value, cscope.parent) if cscope.parent else None
            if base is not None:
                bases.append(base)
        qualname = f"{module}.{cscope.qualname}"
        summary.classes[qualname] = ClassSummary(qualname, tuple(bases), tuple(methods.get(id(cscope), ())),
                                                 init_attrs.get(id(cscope), {}))
    return summary


def _arg_types(call: cst.Call, scope, resolver: Resolver, is_project, summary: ModuleSummary) -> None:
    """Preview: the library types of the arguments of a project call (`Provider(session, ...)` where `session:
    Session = Depends(get_session)`), published for the callee's attributes."""
    if not call.args or isinstance(call.func, cst.Attribute) and call.func.attr.value in ("append", "get"):
        return
    callee = None
    for arg in call.args:
        if not isinstance(arg.value, (cst.Name, cst.Attribute)) or arg.star:
            continue
        typed = resolver.type_of(arg.value, scope)
        if typed is None or is_project(typed):
            continue
        if callee is None:
            callee = resolver.callee(call.func, scope) or ""
            if not is_project(callee) or len(summary.arg_types) >= MAX_CALLS:
                return
        static = isinstance(call.func, cst.Attribute) and resolver.qualify(call.func.value, scope) is not None
        key = flow.call_arg_key(arg, call, static)
        if key is not None:
            summary.arg_types.add(f"{callee}\0{key}\0{typed}")
