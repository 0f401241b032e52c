"""Small helpers shared by the AL3xx-AL7xx checks (timeouts, lifecycles, cancellation, websockets, tests).

Everything here answers questions from the walker's facts and the resolver; nothing walks the whole module again.
Subtree walks (`walk`) are only done for the few nodes a rule has already picked out.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Iterable, Iterator

import libcst as cst

from async_lint.context import FileContext
from async_lint.resolve import is_none  # noqa: F401  (re-exported for the checks)
from async_lint.walker import Scope, children, dotted_name

NESTED_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)

# Frameworks whose decorators and route registrations the checks recognise.
ROUTE_METHODS = frozenset({"get", "post", "put", "delete", "patch", "options", "head", "trace", "api_route", "route"})


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def positional(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def walk(node: cst.CSTNode, into_nested: bool = False) -> Iterator[cst.CSTNode]:
    """`node` and everything below it, in no particular order; nested defs, lambdas and classes are skipped
    (but yielded themselves) unless `into_nested`."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and not into_nested and isinstance(current, NESTED_SCOPES):
            continue
        stack.extend(children(current))


def strip_call(node: cst.BaseExpression) -> cst.BaseExpression:
    """`pytest.mark.asyncio(loop_scope="module")` -> `pytest.mark.asyncio`."""
    return node.func if isinstance(node, cst.Call) else node


def qualified(ctx: FileContext, node: cst.BaseExpression, scope: Scope) -> str | None:
    """Qualified name of a Name/Attribute chain (through imports), else its dotted text, else None."""
    return ctx.resolver.qualify(node, scope) or dotted_name(node)


def tail(name: str | None) -> str:
    return name.rsplit(".", 1)[-1] if name else ""


def table(ctx: FileContext, name: str) -> list[dict[str, Any]]:
    return ctx.catalog.tables.get(name, [])


def table_names(ctx: FileContext, name: str, key: str) -> frozenset[str]:
    """The union of the list `key` over every entry of the catalog table `name`."""
    out: set[str] = set()
    for entry in table(ctx, name):
        value = entry.get(key, ())
        out.update([value] if isinstance(value, str) else value)
    return frozenset(out)


def route_decorator(decorator: cst.Decorator, kinds: frozenset[str]) -> cst.Call | cst.Attribute | None:
    """`@app.get("/x")` / `@router.websocket("/ws")` when the attribute is one of `kinds`; the decorator node."""
    expr = decorator.decorator
    func = expr.func if isinstance(expr, cst.Call) else expr
    if isinstance(func, cst.Attribute) and func.attr.value in kinds:
        return expr  # type: ignore[return-value]
    return None


def is_path_operation(node: cst.FunctionDef) -> str | None:
    """`GET /items` for a FastAPI/Starlette path operation decorated `@app.get("/items")`, else None."""
    for decorator in node.decorators:
        expr = route_decorator(decorator, ROUTE_METHODS)
        if not isinstance(expr, cst.Call):
            continue
        path_arg = keyword(expr, "path")
        args = positional(expr)
        if path_arg is None and args:
            path_arg = args[0]
        if path_arg is None or not isinstance(path_arg.value, (cst.SimpleString, cst.ConcatenatedString,
                                                                 cst.FormattedString, cst.Name, cst.Attribute)):
            continue
        method = expr.func.attr.value  # type: ignore[union-attr]
        path = path_arg.value.evaluated_value if isinstance(path_arg.value, cst.SimpleString) else None
        label = method.upper() if method not in ("api_route", "route") else "route"
        return f"{label} {path}" if isinstance(path, str) else label
    return None


def imports_module(ctx: FileContext, prefixes: Iterable[str]) -> bool:
    """Whether the file imports anything from one of these top-level packages."""
    tops = ctx.__dict__.get("_imported_tops")
    if tops is None:  # asked per call by several checks: the file's imports are read once
        tops = ctx.__dict__["_imported_tops"] = _imported_tops(ctx)
    return not tops.isdisjoint(prefixes)


def _imported_tops(ctx: FileContext) -> frozenset[str]:
    out = set()
    for node, _ in ctx.facts.imports:
        if isinstance(node, cst.Import):
            names = [dotted_name(alias.name) or "" for alias in node.names]
        else:
            if node.relative:
                continue
            names = [dotted_name(node.module) or ""] if node.module is not None else []
        out.update(name.split(".", 1)[0] for name in names)
    return frozenset(out)


def handler_type_names(ctx: FileContext, handler: cst.ExceptHandler | cst.ExceptStarHandler,
                       scope: Scope) -> list[str] | None:
    """Qualified names an `except` clause catches; None for a bare `except:`; unknown entries as ""."""
    if handler.type is None:
        return None
    expr = handler.type
    elements = [e.value for e in expr.elements] if isinstance(expr, cst.Tuple) else [expr]
    return [qualified(ctx, e, scope) or "" if isinstance(e, (cst.Name, cst.Attribute)) else "" for e in elements]


def in_try_body(facts: Any, node: cst.CSTNode, stop: cst.CSTNode) -> Iterator[cst.Try | cst.TryStar]:
    """Every `try` (below `stop`) whose body - not its handlers, else or finally - contains `node`."""
    previous = node
    for ancestor in facts.ancestors(node):
        if ancestor is stop or isinstance(ancestor, NESTED_SCOPES):
            return
        if isinstance(ancestor, (cst.Try, cst.TryStar)) and previous is ancestor.body:
            yield ancestor
        previous = ancestor


def _name_matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def runs_once(ctx: FileContext, scope: Scope, call: cst.CSTNode | None = None) -> bool:
    """AL202: code that runs once, so a task started there is not worth reporting. A function the catalog's
    `[[run-once-functions]]` names (a lifespan, a startup hook, Home Assistant's `async_setup*`, `__del__`; or a
    method of a class it names, `ProxyStartupEvent`); a function of this file that is only ever called from
    run-once code or handed to a `[[run-once-registrations]]` call there (`hass.bus.async_listen_once(EVENT_STOP,
    on_stop)`); or a `call` behind a once-guard (`if self._started: return` ... `self._started = True`)."""
    function = scope.function
    if function is None:
        return False
    if call is not None and _in_while(ctx, call, function):
        return False  # a loop in run-once code (a poller started at start-up) starts a task on every turn
    cache = ctx.__dict__.setdefault("_fix_cache", {}).setdefault("runs-once", {})
    if _function_runs_once(ctx, function, cache, 0):
        return True
    return call is not None and _once_guarded(ctx, function, call)


def _in_while(ctx: FileContext, node: cst.CSTNode, function: Scope) -> bool:
    for ancestor in ctx.facts.ancestors(node):
        if ancestor is function.node:
            return False
        if isinstance(ancestor, cst.While):
            return True
    return False


def _function_runs_once(ctx: FileContext, function: Scope, cache: dict[int, bool], depth: int) -> bool:
    known = cache.get(id(function))
    if known is not None:
        return known
    cache[id(function)] = False  # a recursive function is not run-once through itself
    names = table_names(ctx, "run-once-functions", "names")
    classes = table_names(ctx, "run-once-functions", "classes")
    owner = function.class_scope
    result = (_name_matches(function.name, names)
              or (owner is not None and _name_matches(owner.name, classes))
              or (depth < 3 and _only_started_from_once(ctx, function, cache, depth)))
    cache[id(function)] = result
    return result


def _mentions(expr: cst.CSTNode) -> set[str]:
    return {name for node in walk(expr) if isinstance(node, (cst.Name, cst.Attribute))
            for name in [dotted_name(node)] if name}


def _sets_true(node: cst.CSTNode) -> set[str]:
    """Names and attributes assigned `True` below `node` (`self._started = True`)."""
    out = set()
    for child in walk(node):
        if isinstance(child, cst.Assign) and isinstance(child.value, cst.Name) and child.value.value == "True":
            out.update(name for target in child.targets for name in [dotted_name(target.target)] if name)
    return out


def _once_guarded(ctx: FileContext, function: Scope, call: cst.CSTNode) -> bool:
    """The call (in no loop) is behind a flag its function sets to `True`: inside `if not F: ... F = True`, or
    after `if F: return` with `F = True` further on. It runs once per owner of the flag."""
    facts = ctx.facts
    statement = None
    for ancestor in facts.ancestors(call):
        if ancestor is function.node:
            break
        if isinstance(ancestor, (cst.For, cst.While)):
            return False
        if isinstance(ancestor, cst.If) and _mentions(ancestor.test) & _sets_true(ancestor.body):
            return True
        statement = ancestor
    body = getattr(function.node, "body", None)
    if statement is None or not isinstance(body, cst.IndentedBlock):
        return False
    flags = _sets_true(function.node)
    for stmt in body.body:
        if stmt is statement:
            return False
        if (isinstance(stmt, cst.If) and stmt.orelse is None and _only_returns(stmt.body)
                and _mentions(stmt.test) & flags):
            return True
    return False


def _only_returns(block: cst.BaseSuite) -> bool:
    small: Any = ()
    if isinstance(block, cst.SimpleStatementSuite):
        small = block.body
    elif isinstance(block, cst.IndentedBlock) and len(block.body) == 1 and isinstance(block.body[0],
                                                                                      cst.SimpleStatementLine):
        small = block.body[0].body
    return len(small) == 1 and isinstance(small[0], cst.Return)


def _function_references(ctx: FileContext) -> dict[str, list[tuple[str, Scope, cst.CSTNode]]]:
    """Every use of a bare or attribute name in the file's calls and assignments, by name: `call` (`f()`,
    `self.f()`), `once` (an argument of a `[[run-once-registrations]]` call), `other` (any other argument or an
    assigned value). Built once per file."""
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    refs = cache.get("function-references")
    if refs is not None:
        return refs
    registrations = table_names(ctx, "run-once-registrations", "calls")
    refs = {}

    def add(node: cst.BaseExpression, kind: str, scope: Scope) -> None:
        if isinstance(node, cst.Name):
            refs.setdefault(node.value, []).append((kind, scope, node))
        elif isinstance(node, cst.Attribute):
            refs.setdefault(node.attr.value, []).append((kind, scope, node))

    for call, scope in ctx.facts.calls:
        add(call.func, "call", scope)
        kind = "once" if _name_matches(tail(dotted_name(call.func)), registrations) else "other"
        for arg in call.args:
            add(arg.value, kind, scope)
    for assign, scope in ctx.facts.assigns:
        if assign.value is not None:
            add(assign.value, "other", scope)
    cache["function-references"] = refs
    return refs


def _only_started_from_once(ctx: FileContext, function: Scope, cache: dict[int, bool], depth: int) -> bool:
    """A function of this file whose every use (by name) is a call from run-once code, or its registration as a
    run-once callback there, outside a `while` loop: it runs once too. One used nowhere in the file (a route, a
    callback) is not, nor is a public function or a public method called from outside its class (other modules
    may call it too)."""
    uses = _function_references(ctx).get(function.name)
    if not uses:
        return False
    parent = function.parent
    name = function.name
    # Other modules may call a public function or method too: only a closure, a private name, or a method
    # called through `self` / `cls` by its own class is judged by this file's calls.
    internal = (parent is not None and parent.kind in ("function", "lambda")) or (
        name.startswith("_") and not name.startswith("__"))
    owner = function.class_scope
    for kind, scope, node in uses:
        caller = scope.function
        if kind == "other" or caller is None or caller is function or _in_while(ctx, node, caller):
            return False
        if not internal and not (owner is not None and caller.class_scope is owner and kind == "call"
                                 and isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
                                 and node.value.value in (caller.self_name, "cls", owner.name)):
            return False
        if not _function_runs_once(ctx, caller, cache, depth + 1):
            return False
    return True


def _lifespan_functions(ctx: FileContext) -> frozenset[str]:
    """Names passed as `lifespan=` (`FastAPI(lifespan=app_lifespan)`): start-up/shutdown code whatever its name."""
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    if "lifespan-names" not in cache:
        names = set()
        for call, _ in ctx.facts.calls:
            arg = keyword(call, "lifespan")
            if arg is not None and isinstance(arg.value, cst.Name):
                names.add(arg.value.value)
        cache["lifespan-names"] = frozenset(names)
    return cache["lifespan-names"]


def file_in_table_paths(ctx: FileContext, table: str) -> bool:
    """Does this file match one of the `paths` of catalog table `table` (patterns as in `test-files`)? Cached
    per file."""
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    key = f"{table}-file"
    if key not in cache:
        from async_lint.config import matches_test_pattern, relative_path

        rel = relative_path(ctx.path, getattr(ctx.settings, "root", None))
        cache[key] = any(matches_test_pattern(rel, pattern) for pattern in table_names(ctx, table, "paths"))
    return cache[key]


def _not_serving_file(ctx: FileContext) -> bool:
    return file_in_table_paths(ctx, "not-serving")


def not_serving(ctx: FileContext, scope: Scope) -> bool:
    """AL101-AL107: an `async def` that serves no concurrent work, so blocking in it stalls nobody: a CLI command
    (`@app.command()` in a file importing click/typer/cyclopts), start-up/shutdown code run once (a lifespan, an
    `@app.on_event(...)` handler, a `*startup*` function, a function passed as `lifespan=`), or any function in
    a CLI/example/script file. The catalog's `[[not-serving]]` table (`functions`, `decorators` with optional
    `imports`, `paths`, shell-style patterns; a path pattern as in `test-files`)."""
    if _not_serving_file(ctx):
        return True
    function = scope.function
    if function is None or not isinstance(function.node, cst.FunctionDef):
        return False
    name = function.name
    if name in _lifespan_functions(ctx):
        return True
    decorators = None
    for entry in table(ctx, "not-serving"):
        if _name_matches(name, entry.get("functions", ())):
            return True
        patterns = entry.get("decorators", ())
        if not patterns or (entry.get("imports") and not imports_module(ctx, entry["imports"])):
            continue
        if decorators is None:
            decorators = []
            for decorator in function.node.decorators:
                expr = strip_call(decorator.decorator)
                decorators.extend(n for n in (qualified(ctx, expr, function.parent), dotted_name(expr)) if n)
        if any(_name_matches(d, patterns) for d in decorators):
            return True
    return False
