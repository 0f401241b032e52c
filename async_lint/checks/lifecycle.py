"""AL401-AL406: clients, sessions and pools that are never closed, built per request, or built the old way.

AL401/AL402 follow what happens to each constructed resource:
  * used as a context manager (`async with X() as c`, `c = X(); async with c:`), closed in a `finally`, handed on
    (returned, stored in a container, given to a class or an exit stack), or registered as a callback
    (`stack.push_async_callback(c.aclose)`): fine;
  * bound to a local name and none of the above: reported at the construction, with what is missing (never
    closed; closed only when no exception is raised; a yield-dependency that never closes what it yields);
  * created and dropped (`await aiohttp.ClientSession().get(url)`): reported;
  * stored on an object or a module global (`self._client = X()`, `app.state.http = X()`, `client = X()`):
    fine when some `aclose()`/`close()` of a receiver with the same attribute name exists in the project
    (published by `summarize` under "closed-attributes"), else reported once at the construction.
"""

from __future__ import annotations

from typing import Any, Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import (
    NESTED_SCOPES, imports_module, is_none, is_path_operation, keyword, positional, table, table_names, tail, walk,
)
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fixes import FixSpec, ImportNeed, local_name, name_taken, remove_arg
from async_lint.walker import Scope, dotted_name

CLOSED_KEY = "closed-attributes"  # tails of receivers closed somewhere: `_client` for `self._client.aclose()`
CLOSED_TEXT_KEY = "closed-receivers"  # their dotted text: `self._client`, `app.state.http`
DEPENDENCIES_KEY = "fastapi-dependencies"  # names of functions used in Depends(...) / Security(...)

# What the analysis of one local name found.
MANAGED, CLOSED, ESCAPED, YIELDED, CLOSED_UNSAFE, CLOSED_ON_ERROR, STORED = (
    "managed", "closed", "escaped", "yielded", "closed-unsafe", "closed-on-error", "stored")

NON_OWNING = frozenset({"print", "isinstance", "len", "repr", "str", "id", "type", "hasattr", "getattr", "bool",
                        "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "cast"})


def _defer(report: Report, key: str, value: str) -> Report:
    """Let the project index (when the engine has one) drop the finding if `value` is in the project's `key`."""
    if "defer" in getattr(Report, "__dataclass_fields__", {}):
        report.defer = ("unless-shared", f"{key}\0{value}")  # type: ignore[attr-defined]
    return report


def _a(what: str) -> str:
    return "an" if what[:1].lower() in "aeio" or what.startswith("HTTP") else "a"


def bound_value(ctx: FileContext, expr: cst.BaseExpression, scope: Scope) -> tuple[cst.BaseExpression, Scope] | None:
    """The one expression a name or `self.attr` is assigned (None assignments ignored), with its scope."""
    if isinstance(expr, cst.Name):
        found = ctx.resolver.lookup(expr.value, scope)
        if found is None:
            return None
        owner, bindings = found
        values = []
        for kind, payload in bindings:
            if kind == "assign":
                values.append(payload)
            elif kind == "ann" and payload[1] is not None:
                values.append(payload[1])
            elif kind != "ann":
                return None
        values = [v for v in values if not is_none(v)]
        return (values[0], owner) if len(values) == 1 else None
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
        func = scope.function
        cls = func.class_scope if func is not None else None
        if cls is None or func.self_name != expr.value.value:
            return None
        values = []
        for kind, payload, method_scope in cls.attr_assigns.get(expr.attr.value, ()):
            value = payload if kind == "assign" else (payload[1] if kind == "ann" else None)
            if value is not None and not is_none(value):
                values.append((value, method_scope or cls))
        return values[0] if len(values) == 1 else None
    return None


class _Usage:
    """How code closes a resource of this type: `async with`/`with`, `await x.aclose()`/`x.close()`."""

    def __init__(self, typed: str, written: str):
        self.written = written
        self.is_async = "Async" in typed or typed.startswith("aiohttp")
        self.with_ = "async with" if self.is_async else "with"
        self.await_ = "await " if self.is_async else ""
        self.close = "aclose()" if typed == "httpx.AsyncClient" else "close()"


class _Closeables:
    def __init__(self, ctx: FileContext):
        self.by_type: dict[str, dict[str, Any]] = {}
        self.exclude: set[str] = set()
        self.factory_calls: dict[str, dict[str, Any]] = {}
        for entry in table(ctx, "closeable"):
            for name in entry.get("types", ()):
                self.by_type[name] = entry
            self.exclude.update(entry.get("exclude", ()))
            for name in entry.get("factory-calls", ()):
                self.factory_calls[name] = entry
        self.close_names = table_names(ctx, "close-methods", "names")
        self.enter_names = table_names(ctx, "close-methods", "enter")
        self.owners = table_names(ctx, "close-methods", "owners")

    def kind(self, ctx: FileContext, call: cst.Call, scope: Scope) -> tuple[dict[str, Any], str] | None:
        """(closeable entry, type name) for a call that makes a closeable resource."""
        callee = ctx.callee(call, scope)
        if callee is not None and callee in self.exclude:
            return None
        typed = ctx.type_of(call, scope)
        if typed in self.by_type:
            return self.by_type[typed], typed
        # `SessionLocal()` where `SessionLocal = sessionmaker(..., class_=AsyncSession)`.
        if isinstance(call.func, (cst.Name, cst.Attribute)) and callee is None:
            found = bound_value(ctx, call.func, scope)
            if found is not None and isinstance(found[0], cst.Call):
                maker = ctx.resolver.callee(found[0].func, found[1]) or ""
                entry = self.factory_calls.get(maker)
                if entry is not None:
                    is_async = "async" in maker or keyword(found[0], "class_") is not None
                    return entry, "sqlalchemy.ext.asyncio.AsyncSession" if is_async else "sqlalchemy.orm.Session"
        return None


class UnclosedResource(Rule):
    codes = ("AL401", "AL402")

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        closeables = _Closeables(ctx)
        texts: set[str] = set()

        def add(expr: cst.BaseExpression | None) -> None:
            text = dotted_name(expr) if expr is not None else None
            if text:
                texts.add(text)

        for call, _ in ctx.facts.calls:
            func = call.func
            if isinstance(func, cst.Attribute):
                if func.attr.value in closeables.close_names:
                    add(func.value)
                if func.attr.value in closeables.owners:
                    for arg in call.args:
                        add(arg.value)
            elif isinstance(func, cst.Name) and func.value in ("closing", "aclosing"):
                for arg in call.args:
                    add(arg.value)
            # Callbacks: `stack.push_async_callback(self._client.aclose)`, `on_shutdown=[client.aclose]`.
            for arg in call.args:
                values = [e.value for e in arg.value.elements] if isinstance(arg.value, (cst.List, cst.Tuple)) \
                    else [arg.value]
                for value in values:
                    if isinstance(value, cst.Attribute) and value.attr.value in closeables.close_names:
                        add(value.value)
        for with_node, _ in ctx.facts.withs:
            for item in with_node.items:
                if isinstance(item.item, (cst.Name, cst.Attribute)):
                    add(item.item)
        return {CLOSED_TEXT_KEY: texts, CLOSED_KEY: {tail(t) for t in texts}}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        closeables = _Closeables(ctx)
        closed_attributes: set[str] | None = None
        for call, scope in ctx.facts.calls:
            found = closeables.kind(ctx, call, scope)
            if found is None:
                continue
            entry, typed = found
            code = entry["code"]
            if code not in self.enabled:
                continue
            what = entry["what"]
            shown = dotted_name(call.func) or typed
            written = ctx.module.code_for_node(call) if len(call.args) <= 2 else f"{shown}(...)"
            if len(written) > 60 or "\n" in written:
                written = f"{shown}(...)"
            usage = _Usage(typed, written)
            fate = self._fate(ctx, call, scope)
            if fate is None:
                continue
            verdict, detail = fate
            if verdict == "dropped":
                yield Report(code, call,
                             f"`{shown}()` makes {_a(what)} {what} that is used once (`.{detail}(...)`) and never closed: "
                             f"its connections leak",
                             f"use `{usage.with_} {written} as c:` and call `c.{detail}(...)` inside it")
            elif verdict == "stored":
                if closed_attributes is None:
                    closed_attributes = ctx.shared(CLOSED_KEY)
                if tail(detail) in closed_attributes:
                    continue
                place = f"stored in `{detail}`" if "." in detail else f"`{detail}` (a global)"
                report = Report(code, call,
                                f"the {what} {place} is never closed: no `aclose()`/`close()` of "
                                f"`{tail(detail)}` was found in the project",
                                "close it where the application shuts down (lifespan handler after `yield`, "
                                "an `aclose()` method, a shutdown hook)")
                yield _defer(report, CLOSED_KEY, tail(detail))
            elif verdict == "local":
                yield from self._local(ctx, call, scope, detail, code, what, usage, closeables)

    # ------------------------------------------------------------------ where the constructed value goes
    def _fate(self, ctx: FileContext, call: cst.Call, scope: Scope) -> tuple[str, str] | None:
        facts = ctx.facts
        node: cst.CSTNode = call
        parent = facts.parent_of(node)
        if isinstance(parent, cst.Await):
            node, parent = parent, facts.parent_of(parent)
        if isinstance(parent, cst.WithItem) and parent.item is node:
            return None
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            closeables_close = ("aclose", "close", "__aenter__", "__enter__", "__aexit__", "__exit__")
            if attr in closeables_close or not isinstance(facts.parent_of(parent), cst.Call):
                return None
            return "dropped", attr
        target: cst.BaseExpression | None = None
        if isinstance(parent, cst.Assign) and parent.value is node and len(parent.targets) == 1:
            target = parent.targets[0].target
        elif isinstance(parent, cst.AnnAssign) and parent.value is node:
            target = parent.target
        if isinstance(target, cst.Name):
            if scope.kind in ("module", "class") or target.value in scope.declared_global:
                return "stored", target.value
            if scope.function is None:
                return None
            return "local", target.value
        if isinstance(target, cst.Attribute):
            text = dotted_name(target)
            return ("stored", text) if text else None
        return None

    def _local(self, ctx: FileContext, call: cst.Call, scope: Scope, name: str, code: str, what: str,
               usage: "_Usage", closeables: _Closeables) -> Iterator[Report]:
        func = scope.function
        assert func is not None
        body = func.node.body
        found: set[str] = set()
        stored_in: list[str] = []
        for node in walk(body, into_nested=True):
            if not (isinstance(node, cst.Name) and node.value == name):
                continue
            verdict, detail = self._use(ctx, node, func.node, closeables)
            found.add(verdict)
            if verdict == STORED:
                stored_in.append(detail)
        if found & {MANAGED, CLOSED, ESCAPED}:
            return
        if stored_in:
            closed = ctx.shared(CLOSED_KEY)
            if all(tail(text) in closed for text in stored_in):
                return
            report = Report(code, call,
                            f"the {what} `{name}` is stored in `{stored_in[0]}` but never closed: no "
                            f"`aclose()`/`close()` of `{tail(stored_in[0])}` was found in the project",
                            "close it where the application shuts down (lifespan handler after `yield`, an "
                            "`aclose()` method, a shutdown hook)")
            yield _defer(report, CLOSED_KEY, tail(stored_in[0]))
            return
        if CLOSED_UNSAFE in found and CLOSED_ON_ERROR in found:
            return
        close = usage.close
        if CLOSED_UNSAFE in found:
            if YIELDED in found:
                message = (f"the {what} `{name}` is closed after `yield` but not in a `finally`: an exception in "
                           f"the code using it is raised at the `yield` and skips the close")
            else:
                message = (f"the {what} `{name}` is closed only when no exception is raised: an error before "
                           f"`{name}.{close}` leaks its connections")
            yield Report(code, call, message,
                         f"use `{usage.with_} {usage.written} as {name}:` (or `finally: {usage.await_}{name}.{close}`)")
            return
        if YIELDED in found:
            message = (f"the {what} `{name}` is yielded but never closed: this dependency/context manager leaks "
                       f"one on every use")
            suggestion = f"`{usage.with_} {usage.written} as {name}: yield {name}` (or `try: yield {name}` / " \
                         f"`finally: {usage.await_}{name}.{close}`)"
        else:
            message = f"the {what} `{name}` is never closed: its connections leak until garbage collection"
            suggestion = f"use `{usage.with_} {usage.written} as {name}:` (or `finally: {usage.await_}{name}.{close}`)"
            yield Report(code, call, message, suggestion, fix=_wrap_fix(ctx, call, func, name, usage, closeables))
            return
        yield Report(code, call, message, suggestion)

    def _use(self, ctx: FileContext, occurrence: cst.Name, function: cst.CSTNode,
             closeables: _Closeables) -> tuple[str, str]:
        """What one occurrence of the resource's local name does with it."""
        facts = ctx.facts
        parent = facts.parent_of(occurrence)
        if isinstance(parent, cst.Attribute) and parent.value is occurrence:
            attr = parent.attr.value
            if attr in closeables.enter_names:
                return MANAGED, ""
            if attr not in closeables.close_names:
                return "use", ""
            grand = facts.parent_of(parent)
            if not (isinstance(grand, cst.Call) and grand.func is parent):
                return CLOSED, ""  # a callback: `stack.push_async_callback(client.aclose)`
            on_error = False
            for ancestor in facts.ancestors(grand):
                if ancestor is function:
                    break
                if isinstance(ancestor, NESTED_SCOPES):
                    return CLOSED, ""  # closed by a callback defined here
                if isinstance(ancestor, cst.Finally):
                    return CLOSED, ""
                if isinstance(ancestor, (cst.ExceptHandler, cst.ExceptStarHandler)):
                    on_error = True
            return (CLOSED_ON_ERROR if on_error else CLOSED_UNSAFE), ""
        if isinstance(parent, cst.WithItem) and parent.item is occurrence:
            return MANAGED, ""
        node: cst.CSTNode = occurrence
        while parent is not None and parent is not function:
            if isinstance(parent, cst.Arg):
                call = facts.parent_of(parent)
                if not isinstance(call, cst.Call):
                    return "use", ""
                called = tail(dotted_name(call.func) or "")
                if called in closeables.owners or called[:1].isupper() or parent.keyword is not None:
                    return ESCAPED, ""
                if called in NON_OWNING:
                    return "use", ""
                if not isinstance(facts.parent_of(call), cst.Await):
                    return ESCAPED, ""  # a sync helper may keep it (`api = make_api(client)`)
                return "use", ""  # `await fetch(client, url)`: a use
            if isinstance(parent, (cst.Element, cst.StarredElement, cst.DictElement, cst.StarredDictElement,
                                   cst.NamedExpr, cst.Return)):
                return ESCAPED, ""
            if isinstance(parent, cst.Yield):
                return YIELDED, ""
            if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
                targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
                if len(targets) == 1 and isinstance(targets[0], cst.Attribute) and dotted_name(targets[0]):
                    return STORED, dotted_name(targets[0]) or ""
                return ESCAPED, ""  # another name or a container now holds it
            if isinstance(parent, (cst.Await, cst.IfExp, cst.BooleanOperation)):
                node, parent = parent, facts.parent_of(parent)
                continue
            return "use", ""
        return "use", ""


def _wrap_fix(ctx: FileContext, call: cst.Call, func: Scope, name: str, usage: _Usage,
              closeables: _Closeables) -> FixSpec | None:
    """AL401/AL402: `name = X(...)` followed by its uses -> `async with X(...) as name:` (`with` for a sync
    resource) around the rest of the block (unsafe: that code moves into the block, and what it made from the
    resource, such as a response, no longer outlives it).

    Only the simple pattern: a plain assignment alone on its line, in the function's own code (not a lambda,
    not an `async` resource in a sync `def`), the name bound nowhere else, and every other occurrence of the
    name in the statements that follow in the same block, used through its attributes (`client.get(...)`)
    outside nested functions and classes, not closed or entered by hand, and none of its methods or their
    un-awaited results returned or yielded (`return client.stream(...)`)."""
    facts = ctx.facts
    assign = facts.parent_of(call)
    if not (isinstance(assign, cst.Assign) and assign.value is call and len(assign.targets) == 1):
        return None
    target = assign.targets[0].target
    line = facts.parent_of(assign)
    block = facts.parent_of(line)
    if not (isinstance(target, cst.Name) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
            and isinstance(block, cst.IndentedBlock)):
        return None
    function = func.node
    if not isinstance(function, cst.FunctionDef) or (usage.is_async and function.asynchronous is None):
        return None
    if len(func.bindings.get(name, ())) != 1:
        return None
    index = next(i for i, statement in enumerate(block.body) if statement is line)
    rest = block.body[index + 1:]
    if not rest:
        return None
    following = {id(statement) for statement in rest}
    manual = closeables.close_names | closeables.enter_names
    for node in walk(function.body, into_nested=True):
        if not isinstance(node, cst.Name) or node.value != name or node is target:
            continue
        parent = facts.parent_of(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            continue  # `other.client`: not this name
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            continue  # `f(client=...)`: a keyword, not this name
        if not (isinstance(parent, cst.Attribute) and parent.value is node) or parent.attr.value in manual:
            return None
        if _handed_out(facts, parent):
            return None
        if not _inside_following(facts, node, block, following):
            return None
    item = cst.WithItem(item=call, asname=cst.AsName(name=cst.Name(name)))
    body = cst.IndentedBlock(body=list(rest), header=line.trailing_whitespace, indent=block.indent)
    wrapped = cst.With(items=[item], body=body, leading_lines=line.leading_lines,
                       asynchronous=cst.Asynchronous() if usage.is_async else None)
    new_block = block.with_changes(body=[*block.body[:index], wrapped])
    return FixSpec(f"Wrap the code that uses `{name}` in `{usage.with_} ... as {name}:`", "unsafe",
                   replacements=[(block, new_block)])


def _inside_following(facts: Any, node: cst.CSTNode, block: cst.IndentedBlock, following: set[int]) -> bool:
    """Is `node` inside one of the statements `following` of `block`, outside nested functions and classes?"""
    child: cst.CSTNode = node
    for ancestor in facts.ancestors(node):
        if ancestor is block:
            return id(child) in following
        if isinstance(ancestor, NESTED_SCOPES):
            return False
        child = ancestor
    return False


def _handed_out(facts: Any, attribute: cst.Attribute) -> bool:
    """`return client.stream(...)`, `yield client.get`: what is returned or yielded is the resource's method or
    the un-awaited result of calling it, which needs the resource after the block closes it."""
    parent = facts.parent_of(attribute)
    if isinstance(parent, cst.Call) and parent.func is attribute:
        parent = facts.parent_of(parent)
    if isinstance(parent, cst.From):
        parent = facts.parent_of(parent)
    return isinstance(parent, (cst.Return, cst.Yield))


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
