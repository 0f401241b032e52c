"""AL301-AL303: HTTP clients and requests whose wait is unbounded or left to an implicit default.

The catalog's `[[http-clients]]`, `[[timeout-objects]]` and `[[requests-api]]` tables say which classes,
methods and fields matter; constructors and methods are matched through the alias table and receiver types, so
`from httpx import AsyncClient as AC; AC()` and `self._client.get(...)` are seen like `httpx.AsyncClient()`.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import (file_in_table_paths, has_star_kwargs, is_none, keyword, positional, table,
                                     table_names, tail)
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import add_keyword, spelled
from async_lint.fix.spec import FixSpec
from async_lint.walker import Scope, dotted_name

FALLBACK_REQUESTS_TIMEOUT = 10.0  # AL303's fix when no default-timeout is configured


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g}" if seconds != int(seconds) else f"{int(seconds)}"


def in_process_transport(ctx: FileContext, call: cst.Call, scope: Scope, names: frozenset[str]) -> bool:
    """`transport=ASGITransport(app=app)` (directly or through a local name) or `app=...`."""
    if keyword(call, "app") is not None:
        return True
    arg = keyword(call, "transport")
    if arg is None:
        return False
    value: Any = arg.value
    for _ in range(3):
        if isinstance(value, cst.Call):
            callee = ctx.callee(value, scope) or dotted_name(value.func)
            return any(fnmatch.fnmatchcase(tail(callee), pattern) for pattern in names)
        if isinstance(value, cst.Name):
            found = ctx.resolver.lookup(value.value, scope)
            if found is None:
                return False
            assigned = [payload for kind, payload in found[1] if kind == "assign"]
            if len(assigned) != 1:
                return False
            value = assigned[0]
            continue
        return False
    return False


class _Clients:
    """The `[[http-clients]]` table, indexed for the checks."""

    def __init__(self, ctx: FileContext):
        self.by_type: dict[str, dict[str, Any]] = {}
        self.methods: dict[str, dict[str, Any]] = {}  # "httpx.AsyncClient.get" -> entry
        self.functions: dict[str, dict[str, Any]] = {}
        for entry in table(ctx, "http-clients"):
            self.by_type[entry["type"]] = entry
            for method in entry.get("request-methods", ()):
                self.methods[f"{entry['type']}.{method}"] = entry
            for function in entry.get("functions", ()):
                self.functions[function] = entry
        self.in_process = table_names(ctx, "in-process-transports", "names")


class HttpTimeouts(Rule):
    codes = ("AL301", "AL302", "AL303")

    def check(self, ctx: FileContext) -> Iterator[Report]:
        clients = _Clients(ctx)
        timeout_objects = {entry["type"]: entry for entry in table(ctx, "timeout-objects")}
        requests_api = table(ctx, "requests-api")
        requests_functions = table_names(ctx, "requests-api", "functions")
        session_methods: dict[str, int | None] = {}
        for entry in requests_api:
            positions = entry.get("timeout-position", {})
            for method in entry.get("session-methods", ()):
                session_methods[f"{entry['session-type']}.{method}"] = positions.get(method)
        seconds = ctx.settings.default_timeout if ctx.settings is not None else None
        preview = ctx.settings is not None and ctx.settings.preview

        for call, scope in ctx.facts.calls:
            callee = ctx.callee(call, scope)
            if callee is None:
                continue
            kind = ctx.catalog.canonical_type(callee)
            timeout_arg = keyword(call, "timeout")

            # Client constructors.
            if kind in clients.by_type:
                entry = clients.by_type[kind]
                if entry.get("in-process") and in_process_transport(ctx, call, scope, clients.in_process):
                    continue
                if timeout_arg is None or (is_none(timeout_arg.value) and not entry.get("none-disables")):
                    if "AL301" in self.enabled and not has_star_kwargs(call) and not _in_mock(ctx, scope) \
                            and not every_request_has_timeout(ctx, call, scope, entry):
                        report = self._no_timeout(call, callee, kind, entry, timeout_arg, seconds)
                        report.fix = client_timeout_fix(ctx, call, entry, timeout_arg, seconds)
                        yield report
                elif is_none(timeout_arg.value) and "AL302" in self.enabled:
                    yield Report(
                        "AL302", call,
                        f"`{_shown(call, callee)}(timeout=None)` disables every timeout: a request to an upstream "
                        f"that stops answering waits forever",
                        "pass a bound, e.g. `timeout=httpx.Timeout(30.0)` (`read=None` only for streams you watch)",
                    )
                continue

            # Timeout objects with no bound at all.
            if kind in timeout_objects:
                if "AL302" in self.enabled and _unbounded(call, timeout_objects[kind]) \
                        and not _default_or_in_process(ctx, call, scope) \
                        and (preview or not _named_none(call, timeout_objects[kind])):
                    yield Report(
                        "AL302", call,
                        f"`{_shown(call, callee)}(...)` sets no bound at all: requests using it can wait forever",
                        f"set at least one bound, e.g. `{_example_bound(kind)}`",
                    )
                continue

            # Request methods and module functions with timeout=None.
            entry = clients.methods.get(callee) or clients.functions.get(callee)
            if entry is not None:
                if timeout_arg is not None and is_none(timeout_arg.value) and "AL302" in self.enabled:
                    yield Report(
                        "AL302", call,
                        f"`{_shown(call, callee)}(..., timeout=None)` disables the timeout of this request: "
                        f"it waits forever for an upstream that stops answering",
                        "give the request a bound (`timeout=<seconds>`) or drop `timeout=None` to use the client's",
                    )
                continue

            # requests.
            is_function = callee in requests_functions
            if is_function or callee in session_methods:
                if timeout_arg is not None:
                    if is_none(timeout_arg.value) and "AL302" in self.enabled:
                        yield Report(
                            "AL302", call,
                            f"`{_shown(call, callee)}(..., timeout=None)` waits forever for a server that stops "
                            f"answering",
                            "pass `timeout=<seconds>`",
                        )
                    continue
                if "AL303" not in self.enabled or has_star_kwargs(call) or scope.function is None \
                        or sample_code_file(ctx):
                    continue  # import-time code runs once, and a hang there is seen at start-up; sample code
                position = None if is_function else session_methods.get(callee)
                if position is not None and len(positional(call)) > position:
                    continue
                shown = _shown(call, callee)
                suggestion = f"pass `timeout={_format_seconds(seconds)}`" if seconds else \
                    "pass `timeout=<seconds>` (a number, or a `(connect, read)` tuple)"
                yield Report(
                    "AL303", call,
                    f"`{shown}()` has no `timeout`: requests waits forever for a server that stops answering",
                    suggestion,
                    fix=requests_timeout_fix(call, seconds),
                )

    @staticmethod
    def _no_timeout(call: cst.Call, callee: str, kind: str, entry: dict[str, Any], timeout_arg: cst.Arg | None,
                    seconds: float | None) -> Report:
        shown = _shown(call, callee)
        default = entry["implicit-default"]
        if timeout_arg is None:
            message = (f"`{shown}()` is created without `timeout=`: it silently uses {entry['library']}'s implicit "
                       f"default of {default}")
        else:
            message = (f"`{shown}(timeout=None)` does not disable the timeout: it means {entry['library']}'s "
                       f"implicit default of {default}")
        if seconds:
            suggestion = f"pass `{entry['configured'].format(seconds=_format_seconds(seconds))}` (the configured default-timeout)"
        else:
            suggestion = (f"pass the timeout this client needs; `{entry['explicit-default']}` keeps today's "
                          f"behaviour but makes it visible")
        return Report("AL301", call, message, suggestion)


def client_timeout_fix(ctx: FileContext, call: cst.Call, entry: dict[str, Any], timeout_arg: cst.Arg | None,
                       seconds: float | None) -> FixSpec | None:
    """AL301: `timeout=` with the configured default-timeout, else the library's implicit default written out.
    Safe only when the value is that implicit default (nothing changes at run time). The timeout class is spelled
    as the file imports it (`ClientTimeout`, `aiohttp.ClientTimeout`, adding `import aiohttp` when needed)."""
    implicit = entry["explicit-default"].removeprefix("timeout=")
    value = entry["configured"].format(seconds=_format_seconds(seconds)).removeprefix("timeout=") if seconds \
        else implicit
    safe = not seconds or seconds == entry.get("default-seconds")
    imports = []
    cls = entry.get("timeout-class")
    if cls and cls in value:
        found = spelled(ctx.facts, cls)
        if found is None:
            return None
        written, imports = found
        value = value.replace(cls, written)
    expr = cst.parse_expression(value)
    why = "the library's implicit default, made explicit" if safe else "the configured default-timeout"
    if timeout_arg is not None:  # `ClientSession(timeout=None)`: None means the implicit default
        return FixSpec(f"Replace `timeout=None` with `timeout={value}` ({why})", "safe" if safe else "unsafe",
                       replacements=[(timeout_arg.value, expr)], imports=imports)
    new = add_keyword(call, "timeout", expr)
    if new is None:
        return None
    return FixSpec(f"Add `timeout={value}` ({why})", "safe" if safe else "unsafe",
                   replacements=[(call, new.with_changes(lpar=[], rpar=[]))], imports=imports)


def requests_timeout_fix(call: cst.Call, seconds: float | None) -> FixSpec | None:
    """AL303: `timeout=<default-timeout>` (unsafe: a call that used to wait now raises `requests.Timeout`);
    without a configured default-timeout, async-lint's fallback of 10 s, named in the title."""
    value = _format_seconds(seconds if seconds else FALLBACK_REQUESTS_TIMEOUT)
    new = add_keyword(call, "timeout", cst.parse_expression(value))
    if new is None:
        return None
    why = "the configured default-timeout" if seconds else \
        f"no default-timeout is configured: {value} s is async-lint's fallback"
    return FixSpec(f"Add `timeout={value}` ({why})", "unsafe", replacements=[(call, new.with_changes(lpar=[], rpar=[]))])


def _bound_to(ctx: FileContext, call: cst.Call, scope: Scope) -> tuple[str, str] | None:
    """How the client a constructor makes is reached: ("local", name) for `client = X()` / `with X() as
    client`, ("attr", "self._client") for `self._client = X()` in a method; None when it is handed on."""
    parent = ctx.facts.parent_of(call)
    target: Any = None
    if isinstance(parent, cst.WithItem) and parent.asname is not None:
        target = parent.asname.name
    elif isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign) and parent.value is call:
        target = parent.target
    if isinstance(target, cst.Name):
        return "local", target.value
    name = dotted_name(target) if isinstance(target, cst.Attribute) else None
    if name is not None and scope.self_name is not None and name.split(".")[0] == scope.self_name \
            and name.count(".") == 1 and scope.class_scope is not None:
        return "attr", name
    return None


def every_request_has_timeout(ctx: FileContext, call: cst.Call, scope: Scope, entry: dict[str, Any]) -> bool:
    """AL301: every request made through this client in the file passes `timeout=` (or `**options`, which may),
    and there is at least one. `send()` takes no timeout (a request built with one carries it) and is ignored."""
    bound = _bound_to(ctx, call, scope)
    if bound is None:
        return False
    kind, name = bound
    methods = set(entry.get("request-methods", ())) - {"send"}
    seen = 0
    for request, where in ctx.facts.calls:
        func = request.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
            continue
        receiver = dotted_name(func.value)
        if kind == "local":
            if receiver != name or not _within(where, scope):
                continue
        else:
            owner = scope.class_scope
            if where.class_scope is not owner or where.self_name is None or \
                    receiver != f"{where.self_name}.{name.split('.', 1)[1]}":
                continue
        timeout = keyword(request, "timeout")
        if (timeout is None or is_none(timeout.value)) and not has_star_kwargs(request):
            return False
        seen += 1
    return seen > 0


def _within(scope: Scope, outer: Scope) -> bool:
    current: Scope | None = scope
    while current is not None:
        if current is outer:
            return True
        current = current.parent
    return False


def _in_mock(ctx: FileContext, scope: Scope) -> bool:
    """Code that builds a client for a mock (`create_mock_client()`, `mock_server.py`): nothing to time out."""
    stem = ctx.path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if "mock" in stem:
        return True
    current: Scope | None = scope
    while current is not None:
        if "mock" in current.name.lower():
            return True
        current = current.parent
    return False


def _shown(call: cst.Call, callee: str) -> str:
    """The call as written when that names the same thing (`httpx.AsyncClient`), else its qualified name."""
    written = dotted_name(call.func)
    return written if written is not None and tail(written) == tail(callee) else callee


def _example_bound(kind: str) -> str:
    return "aiohttp.ClientTimeout(total=60)" if kind.startswith("aiohttp") else "httpx.Timeout(30.0)"


_IN_PROCESS = ("ASGITransport", "WSGITransport")


def sample_code_file(ctx: FileContext) -> bool:
    """AL303: a file of sample or build code (`examples/`, `example_dags/`, `docs/`; the catalog's
    `[[sample-code]]` paths, patterns as in `test-files`): not a service that a hang would stall."""
    return file_in_table_paths(ctx, "sample-code")


def _named_none(call: cst.Call, entry: dict[str, Any]) -> bool:
    """`aiohttp.ClientTimeout(total=None)`: bounds switched off in writing, in a class whose `deliberate-none`
    says that is how one opts out on purpose (a proxy of long-lived streams); reported in preview only.
    `ClientTimeout()` with no argument looks like "the defaults" and stays reported."""
    return bool(entry.get("deliberate-none")) and bool(call.args)  # `_unbounded`: every argument given is None


def _is_in_process_transport(ctx: FileContext, value: cst.BaseExpression, scope: Scope) -> bool:
    """`httpx.ASGITransport(app)`, or a name bound once to one (`_TRANSPORT = httpx.ASGITransport(...)`)."""
    for _ in range(3):
        if isinstance(value, cst.Call):
            return (dotted_name(value.func) or "").endswith(_IN_PROCESS)
        if not isinstance(value, cst.Name):
            return False
        found = ctx.resolver.lookup(value.value, scope)
        assigned = [payload if kind == "assign" else payload[1] for kind, payload in found[1]
                    if kind == "assign" or kind == "ann" and payload[1] is not None] if found is not None else []
        if len(assigned) != 1:
            return False
        value = assigned[0]
    return False


def _default_or_in_process(ctx: FileContext, call: cst.Call, scope: Scope) -> bool:
    """An unbounded timeout object that waits on nothing: a parameter's default (the callers pass the real
    timeout), or given next to an in-process transport (`transport=httpx.ASGITransport(app)`, directly or
    through a name bound to one: no network)."""
    parent = ctx.facts.parent_of(call)
    if isinstance(parent, cst.Param):
        return True
    holder = ctx.facts.parent_of(parent) if isinstance(parent, (cst.Arg, cst.DictElement)) else None
    if isinstance(holder, cst.Call):
        siblings = [(a.keyword.value if a.keyword else None, a.value) for a in holder.args]
    elif isinstance(holder, cst.Dict):
        siblings = [(e.key.evaluated_value if isinstance(e.key, cst.SimpleString) else None, e.value)
                    for e in holder.elements if isinstance(e, cst.DictElement)]
    else:
        return False
    return any(key == "transport" and _is_in_process_transport(ctx, value, scope) for key, value in siblings)


def _unbounded(call: cst.Call, entry: dict[str, Any]) -> bool:
    """All bounds of a timeout object are absent or `None` (and, where the class needs one, one was given)."""
    if has_star_kwargs(call) or any(arg.star == "*" for arg in call.args):
        return False
    bounds: list[str] = entry["bounds"]
    limit = entry.get("positional", len(bounds))
    given = 0
    for i, arg in enumerate(positional(call)):
        if i >= limit or not is_none(arg.value):
            return False
        given += 1
    for arg in call.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value in bounds:
            if not is_none(arg.value):
                return False
            given += 1
    return given > 0 or not entry.get("needs-argument")
