"""AL401/AL402: what happens to each constructed client or session.

  * used as a context manager (`async with X() as c`, `c = X(); async with c:`), closed in a `finally`, handed on
    (returned, stored in a container, given to a class or an exit stack), or registered as a callback
    (`stack.push_async_callback(c.aclose)`): fine;
  * bound to a local name and none of the above: reported at the construction, with what is missing (never
    closed; closed only when no exception is raised; a yield-dependency that never closes what it yields);
  * created and dropped (`await aiohttp.ClientSession().get(url)`): reported;
  * stored: fine when it lives as long as the application (a module global, a class attribute, `app.state`:
    lifetime.py) or some `aclose()`/`close()` of a receiver with the same attribute name exists in the project
    (published by `summarize` under "closed-attributes"); on `self`, reported only when the project builds
    that class per call; anywhere else (`request.state.http = X()`), reported once at the construction.
"""

from __future__ import annotations

from typing import Any, Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, is_none, keyword, table, table_names, tail, walk
from async_lint.checks.lifecycle.lifetime import APP, OBJECT, PER_CALL_KEY, built_per_call, lifetime
from async_lint.checks.lifecycle.wrap_fix import wrap_fix
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.walker import Scope, dotted_name

CLOSED_KEY = "closed-attributes"  # tails of receivers closed somewhere: `_client` for `self._client.aclose()`
CLOSED_TEXT_KEY = "closed-receivers"  # their dotted text: `self._client`, `app.state.http`

# What the analysis of one local name found.
MANAGED, CLOSED, ESCAPED, YIELDED, CLOSED_UNSAFE, CLOSED_ON_ERROR, STORED = (
    "managed", "closed", "escaped", "yielded", "closed-unsafe", "closed-on-error", "stored")

NON_OWNING = frozenset({"print", "isinstance", "len", "repr", "str", "id", "type", "hasattr", "getattr", "bool",
                        "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "cast"})


def _defer(report: Report, key: str, value: str, per_call: str = "") -> Report:
    """Let the project index drop the finding if `value` is in the project's `key` (and, with `per_call`, also
    unless the project builds that class per call)."""
    target = f"{key}\0{value}" + (f"\n+{PER_CALL_KEY}\0{per_call}" if per_call else "")
    report.defer = ("unless-shared", target)
    return report


def _shared_transport(call: cst.Call, typed: str) -> bool:
    """`httpx.AsyncClient(transport=shared)`: the pool is the transport's, which outlives the client (closing
    the client would close the shared transport); `redis.asyncio.Redis(connection_pool=pool)` likewise."""
    arg = keyword(call, "transport")
    if typed.startswith("redis."):  # `Redis(connection_pool=pool)`: the pool is the caller's
        arg = keyword(call, "connection_pool")
        return arg is not None and isinstance(arg.value, (cst.Name, cst.Attribute))
    return typed.startswith("httpx.") and arg is not None and isinstance(arg.value, (cst.Name, cst.Attribute))


USER_CLOSEABLE = {"code": "AL401", "what": "client"}  # an `extend-closeable-types` entry


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
        self.typed = typed
        self.written = written
        self.is_async = "Async" in typed or typed.startswith(("aiohttp", "redis.asyncio."))
        self.with_ = "async with" if self.is_async else "with"
        self.await_ = "await " if self.is_async else ""
        self.close = "aclose()" if typed in ("httpx.AsyncClient", "redis.asyncio.Redis") else "close()"


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
        # `extend-closeable-types`: the user's clients, found by their constructor call.
        self.extended = frozenset(ctx.settings.extend_closeable) if ctx.settings is not None else frozenset()
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
        if callee is not None and callee in self.extended:
            return USER_CLOSEABLE, callee
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


def _stored(ctx: FileContext, code: str, call: cst.Call, scope: Scope, subject: str, targets: list[str]
            ) -> Iterator[Report]:
    """A client stored in `targets`: fine when one of them lives as long as the application or its attribute
    is closed somewhere in the project; on `self`, reported only if the project builds that class per call."""
    lifetimes = [lifetime(scope, target) for target in targets]
    if any(kind == APP for kind, _ in lifetimes):
        return
    closed = ctx.shared(CLOSED_KEY)
    open_ = [(target, found) for target, found in zip(targets, lifetimes) if tail(target) not in closed]
    if not open_:
        return
    target, (kind, cls) = open_[0]
    attr = tail(target)
    if kind == OBJECT:
        report = Report(code, call,
                        f"{subject} stored in `{target}` is never closed and `{cls}` objects are built per call: each "
                        f"one leaks its connections (no `aclose()`/`close()` of `{attr}` was found in the project)",
                        f"give `{cls}` an `aclose()` method its callers await (or make it an async context "
                        f"manager), or build one `{cls}` for the application (lifespan handler, module level)")
        yield _defer(report, CLOSED_KEY, attr, per_call=cls)
        return
    report = Report(code, call,
                    f"{subject} stored in `{target}` is never closed: no `aclose()`/`close()` of `{attr}` was found in "
                    f"the project",
                    "close it where the application shuts down (lifespan handler after `yield`, an `aclose()` "
                    "method, a shutdown hook)")
    yield _defer(report, CLOSED_KEY, attr)


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
        return {CLOSED_TEXT_KEY: texts, CLOSED_KEY: {tail(t) for t in texts}, PER_CALL_KEY: built_per_call(ctx)}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        closeables = _Closeables(ctx)
        for call, scope in ctx.facts.calls:
            found = closeables.kind(ctx, call, scope)
            if found is None:
                continue
            entry, typed = found
            code = entry["code"]
            if code not in self.enabled or _shared_transport(call, typed):
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
                yield from _stored(ctx, code, call, scope, f"the {what}", [detail])
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
            yield from _stored(ctx, code, call, scope, f"the {what} `{name}`", stored_in)
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
            # No rewrite for an `extend-closeable-types` class: whether it is a context manager is unknown.
            fix = None if usage.typed in closeables.extended else wrap_fix(ctx, call, func, name, usage, closeables)
            yield Report(code, call, message, suggestion, fix=fix)
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
