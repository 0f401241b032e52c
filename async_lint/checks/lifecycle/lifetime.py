"""AL401/AL402: how long a stored client or session lives.

A client that lives as long as the application is not a leak, closed or not:
  * a module global or a class attribute (`client = X()` at module level, `global client` in a function,
    `class Api: client = X()`, `cls.client = X()`), anything stored at module level (`registry.http = X()`);
  * stored on the application's state (`app.state.http = X()`, `request.app.state.http = X()`; not
    `request.state`, which lives for one request).
A client stored on `self` lives as long as its object: a leak only when the project builds that class per call
(published by `summarize` under "built-per-call"): `svc = Service()` or `Service().run()` in a function that is
not app set-up (lifespan, startup, main, a cached factory), or `Depends(Service)`; tests do not count.
"""

from __future__ import annotations

import libcst as cst

from async_lint.checks._util import keyword, positional, tail, walk
from async_lint.context import FileContext
from async_lint.walker import Scope, dotted_name

PER_CALL_KEY = "built-per-call"  # names of classes the project instantiates per call (`Service` for `s = Service()`)

APP, OBJECT, OTHER = "app", "object", "other"

# Functions that run once for the application: objects built there live as long as it.
SETUP_WORDS = ("lifespan", "startup", "start_up", "setup", "set_up", "main", "init", "create_app", "build_app",
               "make_app", "app_factory", "bootstrap", "configure")
CACHE_DECORATORS = frozenset({"lru_cache", "cache", "cached", "cached_property", "on_event", "singleton"})
PER_REQUEST_STATE = frozenset({"request", "req", "websocket", "ws", "scope", "conn", "connection"})


def lifetime(scope: Scope, target: str) -> tuple[str, str]:
    """(APP | OBJECT | OTHER, class name for OBJECT) of a client assigned to `target` (a dotted text) in `scope`."""
    if scope.kind in ("module", "class") or "." not in target:
        return APP, ""
    parts = target.split(".")
    if "state" in parts[1:]:
        before = parts[parts.index("state", 1) - 1]
        if before not in PER_REQUEST_STATE:
            return APP, ""
    func = scope.function
    if func is None:
        return APP, ""
    cls = func.class_scope
    if cls is not None and func.self_name == parts[0]:
        if parts[0] == "cls" or _decorated(func, ("classmethod",)):
            return APP, ""
        return (OBJECT, cls.name) if len(parts) == 2 else (OTHER, "")
    return OTHER, ""


def _decorated(func: Scope, names: tuple[str, ...] | frozenset[str]) -> bool:
    node = func.node
    if not isinstance(node, cst.FunctionDef):
        return False
    for decorator in node.decorators:
        expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        if tail(dotted_name(expr) or "") in names:
            return True
    return False


def runs_once(func: Scope) -> bool:
    """A function that sets the application up (by its name, a cache decorator, an `app` first parameter)."""
    name = func.name.lower()
    if any(word in name for word in SETUP_WORDS) or _decorated(func, CACHE_DECORATORS):
        return True
    node = func.node
    if isinstance(node, cst.FunctionDef) and node.params.params:
        return node.params.params[0].name.value in ("app", "application", "_app")
    return False


def built_per_call(ctx: FileContext) -> set[str]:
    """Names of classes this file builds per call: bound to a local that stays in the function, used at once
    (`Service().run()`), or named in `Depends(Service)`."""
    facts = ctx.facts
    names: set[str] = set()
    if ctx.is_test_file:
        return names  # a test builds its objects per test; the application may still build one
    for call, scope in facts.calls:
        callee = tail(dotted_name(call.func) or "")
        if callee in ("Depends", "Security"):
            arg = keyword(call, "dependency")
            args = positional(call)
            target = arg.value if arg is not None else (args[0].value if args else None)
            name = tail(dotted_name(target) or "") if target is not None else ""
            if name[:1].isupper():
                names.add(name)
            continue
        func = scope.function
        if not callee[:1].isupper() or func is None or runs_once(func):
            continue
        node: cst.CSTNode = call
        parent = facts.parent_of(node)
        if isinstance(parent, cst.Await):
            node, parent = parent, facts.parent_of(parent)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            names.add(callee)
        elif (isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target,
                                                                                          cst.Name)):
            local = parent.targets[0].target.value
            if local not in scope.declared_global and _stays_local(facts, func.node, local):
                names.add(callee)
    return names


def _stays_local(facts, function: cst.CSTNode, name: str) -> bool:
    """Is every use of `name` in `function` an attribute of it (`svc.fetch()`), never handed on or entered?"""
    for node in walk(function, into_nested=True):
        if not (isinstance(node, cst.Name) and node.value == name):
            continue
        parent = facts.parent_of(node)
        if isinstance(parent, cst.Attribute):
            continue  # `svc.fetch()`, `other.svc`
        if isinstance(parent, cst.AssignTarget) or (isinstance(parent, cst.Arg) and parent.keyword is node):
            continue
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.If, cst.UnaryOperation)):
            continue  # `if svc is None`
        return False  # returned, yielded, passed on, stored, entered (`async with svc`)
    return True
