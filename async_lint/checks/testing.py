"""AL701-AL704: async tests that pytest skips, removed httpx and pytest-asyncio APIs, sync TestClient in async tests.

AL701 reads pytest's configuration the way pytest finds it: from the test file's folder upward, the first of
pytest.toml, .pytest.toml, pytest.ini, .pytest.ini, pyproject.toml ([tool.pytest] / [tool.pytest.ini_options]),
tox.ini ([pytest]) and setup.cfg ([tool:pytest]) that holds pytest configuration decides. `asyncio_mode = auto`
(or `--asyncio-mode=auto` in addopts; `trio_mode = true` for pytest-trio) makes every async test run.
"""

from __future__ import annotations

import configparser
import fnmatch
import shlex
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import keyword, strip_call, table, table_names, qualified
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.nodes import local_name, name_taken, spelled
from async_lint.fix.place import indentation
from async_lint.fix.spec import FixSpec, ImportNeed
from async_lint.walker import Scope, dotted_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MARKERS_ADDED_KEY = "async-markers-added"  # a conftest adds an async marker to collected items
RUNNER_FIXTURES_KEY = "async-runner-fixtures"  # fixtures that request a runner fixture (anyio_backend)


# ---------------------------------------------------------------------------------------------------- pytest config
def _ini_section(path: Path, section: str) -> dict[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    except (OSError, configparser.Error):
        return None
    if not parser.has_section(section):
        return None
    return dict(parser.items(section))


def _toml(path: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _load(path: Path) -> dict[str, Any] | None:
    """pytest's options in `path` when it is a pytest configuration file, else None."""
    name = path.name
    if name in ("pytest.toml", ".pytest.toml"):
        data = _toml(path)
        return dict(data.get("pytest", {})) if data is not None else {}
    if name in ("pytest.ini", ".pytest.ini"):
        return _ini_section(path, "pytest") or {}
    if name == "pyproject.toml":
        data = _toml(path)
        tool = (data or {}).get("tool", {}).get("pytest")
        if not isinstance(tool, dict):
            return None
        native = {k: v for k, v in tool.items() if k != "ini_options"}
        if native:
            return native
        options = tool.get("ini_options")
        return dict(options) if isinstance(options, dict) else None
    if name == "tox.ini":
        return _ini_section(path, "pytest")
    if name == "setup.cfg":
        return _ini_section(path, "tool:pytest")
    return None


CONFIG_NAMES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


@lru_cache(maxsize=512)
def pytest_options(folder: str) -> tuple[tuple[str, Any], ...]:
    """The options of the pytest configuration that governs tests in `folder` (empty when there is none)."""
    for base in (Path(folder), *Path(folder).parents):
        for name in CONFIG_NAMES:
            path = base / name
            if path.is_file():
                options = _load(path)
                if options is not None:
                    return tuple(sorted((k, v) for k, v in options.items() if isinstance(k, str)))
    return ()


def _addopts(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError:
        return str(value).split()


def runs_every_async_test(folder: str, entries: list[dict[str, Any]]) -> bool:
    """Whether the configuration makes a plugin run every `async def` test (pytest-asyncio auto mode, trio mode)."""
    options = dict(pytest_options(folder))
    addopts = _addopts(options.get("addopts", ""))
    for entry in entries:
        option = entry.get("auto-option")
        if option is None:
            continue
        wanted = str(entry["auto-value"]).lower()
        if str(options.get(option, "")).strip().lower() == wanted:
            return True
        # `-o asyncio_mode=auto` / `--override-ini=asyncio_mode=auto` in addopts.
        for i, arg in enumerate(addopts):
            value = addopts[i + 1] if arg in ("-o", "--override-ini") and i + 1 < len(addopts) else \
                arg.split("=", 1)[1] if arg.startswith("--override-ini=") else arg[2:] if arg.startswith("-o") else ""
            if value.replace(" ", "").lower() == f"{option}={wanted}":
                return True
        flag = entry.get("auto-flag")
        if flag:
            for i, arg in enumerate(addopts):
                if arg == f"{flag}={wanted}" or (arg == flag and i + 1 < len(addopts) and addopts[i + 1] == wanted):
                    return True
    return False


# ---------------------------------------------------------------------------------------------------- fixes
ASYNCIO_MARK = "pytest.mark.asyncio"
# `app=` of httpx < 0.28 meant these transports: ASGI apps for the async client, WSGI apps for the sync one.
TRANSPORTS = {"httpx.AsyncClient": "httpx.ASGITransport", "httpx.Client": "httpx.WSGITransport"}


def _marker_fix(ctx: FileContext, node: cst.FunctionDef) -> FixSpec | None:
    """AL701: `@pytest.mark.asyncio` on its own line above the test's decorators (safe), spelled through the
    file's `import pytest [as p]` or `from pytest import mark`, else with `import pytest` added."""
    facts = ctx.facts
    imports: list[ImportNeed] = []
    pytest_name = local_name(facts, "pytest")
    mark_name = local_name(facts, "pytest.mark")
    if pytest_name is not None:
        marker = f"{pytest_name}.mark.asyncio"
    elif mark_name is not None:
        marker = f"{mark_name}.asyncio"
    elif not name_taken(facts, "pytest", "pytest"):
        marker = ASYNCIO_MARK
        imports = [ImportNeed("pytest")]
    else:
        return None
    anchor: cst.CSTNode = node.decorators[0] if node.decorators else node
    text = f"@{marker}{facts.module.default_newline}{indentation(node, facts)}"
    return FixSpec(f"Add `@{marker}`", "safe", insertions=[(anchor, text)], imports=imports)


def _transport_fix(ctx: FileContext, call: cst.Call, arg: cst.Arg, transport: str) -> FixSpec | None:
    """AL702: `app=app` -> `transport=ASGITransport(app=app)` (safe: what `app=` did), with the transport spelled
    `httpx.ASGITransport` where the file imports httpx, else imported by name from httpx."""
    if keyword(call, "transport") is not None or arg.keyword is None:
        return None
    found = spelled(ctx.facts, transport, import_name=True)
    if found is None:
        return None
    written, imports = found
    value = cst.Call(func=cst.parse_expression(written),
                     args=[cst.Arg(keyword=cst.Name("app"), value=arg.value, equal=arg.equal)])
    return FixSpec(f"Use `transport={written}(app=...)`", "safe",
                   replacements=[(arg.keyword, "transport"), (arg.value, value)], imports=imports)


# ---------------------------------------------------------------------------------------------------- helpers
def _matches(name: str, patterns: frozenset[str]) -> bool:
    return name in patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns if "*" in p)


def _mark_names(ctx: FileContext, value: cst.BaseExpression, scope: Scope) -> list[str]:
    """Qualified names of the marks in a `pytestmark = ...` value (one mark, a list or a tuple)."""
    items = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
    return [qualified(ctx, strip_call(item), scope) or "" for item in items
            if isinstance(strip_call(item), (cst.Name, cst.Attribute))]


def _pytestmark(ctx: FileContext, scope: Scope) -> list[str]:
    """Marks assigned to `pytestmark` directly in a module or class scope."""
    out: list[str] = []
    for kind, payload in scope.bindings.get("pytestmark", ()):
        value = payload if kind == "assign" else (payload[1] if kind == "ann" else None)
        if value is not None:
            out.extend(_mark_names(ctx, value, scope))
    return out


def _decorators(ctx: FileContext, node: cst.FunctionDef | cst.ClassDef, scope: Scope) -> list[str]:
    return [qualified(ctx, strip_call(d.decorator), scope) or "" for d in node.decorators]


def _params(node: cst.FunctionDef) -> set[str]:
    p = node.params
    return {param.name.value for param in (*p.posonly_params, *p.params, *p.kwonly_params)}


class AsyncTests(Rule):
    codes = ("AL701", "AL702", "AL703", "AL704")

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        markers = table_names(ctx, "async-test-markers", "markers")
        runner_fixtures = table_names(ctx, "async-test-markers", "fixtures")
        fixture_decorators = table_names(ctx, "fixture-decorators", "names")
        added: set[str] = set()
        for call, scope in ctx.facts.calls:
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "add_marker" and call.args:
                mark = strip_call(call.args[0].value)
                if isinstance(mark, (cst.Name, cst.Attribute)) and qualified(ctx, mark, scope) in markers:
                    added.add(qualified(ctx, mark, scope) or "")
        fixtures: set[str] = set()
        for node, fscope in ctx.facts.functions:
            if fscope.parent is None or not (_params(node) & runner_fixtures):
                continue
            if any(name in fixture_decorators for name in _decorators(ctx, node, fscope.parent)):
                fixtures.add(node.name.value)
        return {MARKERS_ADDED_KEY: added, RUNNER_FIXTURES_KEY: fixtures}

    def check(self, ctx: FileContext) -> Iterator[Report]:
        fixture_decorators = table_names(ctx, "fixture-decorators", "names")
        if self.enabled & {"AL701", "AL703", "AL704"}:
            for node, fscope in ctx.facts.functions:
                outer = fscope.parent
                assert outer is not None
                decorators = _decorators(ctx, node, outer)
                is_fixture = any(name in fixture_decorators for name in decorators)
                if "AL703" in self.enabled and is_fixture and node.name.value == "event_loop":
                    yield Report("AL703", node,
                                 "the `event_loop` fixture is overridden: pytest-asyncio deprecated this in 0.22 and "
                                 "removed it in 1.0",
                                 "delete it and set the loop's scope with `loop_scope=` on the markers/fixtures (or "
                                 "`asyncio_default_fixture_loop_scope` in the pytest configuration)")
                if "AL701" in self.enabled and ctx.is_test_file and not is_fixture:
                    report = self._not_run(ctx, node, fscope, decorators)
                    if report is not None:
                        yield report
        if self.enabled & {"AL702", "AL704"}:
            yield from self._calls(ctx, fixture_decorators)

    # ------------------------------------------------------------------ AL701
    def _not_run(self, ctx: FileContext, node: cst.FunctionDef, fscope: Scope,
                 decorators: list[str]) -> Report | None:
        if node.asynchronous is None or not node.name.value.startswith("test"):
            return None
        outer = fscope.parent
        assert outer is not None
        if outer.kind == "class":
            cls = outer.node
            assert isinstance(cls, cst.ClassDef)
            if not cls.name.value.startswith("Test") or cls.bases or outer.parent is None \
                    or outer.parent.kind != "module":
                return None  # not collected by pytest, or a TestCase / base class that may run coroutines
        elif outer.kind != "module":
            return None
        entries = table(ctx, "async-test-markers")
        markers = table_names(ctx, "async-test-markers", "markers")
        transparent = table_names(ctx, "transparent-decorators", "names")
        if any(not _matches(name, transparent) for name in decorators):
            return None  # an unknown decorator may run the coroutine itself
        if any(name in markers for name in decorators):
            return None
        module = ctx.facts.module_scope
        if any(name in markers for name in _pytestmark(ctx, module)):
            return None
        if outer.kind == "class":
            cls = outer.node
            assert isinstance(cls, cst.ClassDef)
            if any(name in markers for name in _decorators(ctx, cls, outer.parent or module)):
                return None
            if any(name in markers for name in _pytestmark(ctx, outer)):
                return None
        runner_fixtures = table_names(ctx, "async-test-markers", "fixtures")
        if _params(node) & (runner_fixtures | ctx.shared(RUNNER_FIXTURES_KEY)):
            return None
        if ctx.shared(MARKERS_ADDED_KEY):
            return None
        folder = str(Path(ctx.path).resolve().parent)
        if runs_every_async_test(folder, entries):
            return None
        return Report(
            "AL701", node,
            f"`async def {node.name.value}` has no `@pytest.mark.asyncio`/`@pytest.mark.anyio` and pytest-asyncio is "
            f"not in auto mode: pytest skips it with only a warning, so it never runs",
            "add `@pytest.mark.asyncio` (or `pytestmark = pytest.mark.asyncio` for the module, or "
            "`asyncio_mode = \"auto\"` in the pytest configuration)",
            fix=_marker_fix(ctx, node),
        )

    # ------------------------------------------------------------------ AL702, AL704
    def _shares_loop_state(self, ctx: FileContext, func: Scope, fixture_decorators: frozenset[str],
                           sync_clients: frozenset[str]) -> bool:
        """AL704 matters when the app can meet something bound to the test's loop: the test (or fixture) builds
        loop-bound objects itself or takes an `async def` fixture of this file. An async test that only reads
        plain objects works with the sync client: a style question, not reported."""
        # Per file (the context): an id() of a node is only unique while its tree lives, and this rule object
        # lints every file of its worker (a cache on it answered later files from freed nodes' ids).
        cache = ctx.__dict__.setdefault("_loop_state", {})
        key = id(func.node)
        if key not in cache:
            loop_bound = table_names(ctx, "loop-bound-constructors", "names")
            async_fixtures = {node.name.value for node, fscope in ctx.facts.functions
                              if node.asynchronous is not None and fscope.parent is not None
                              and any(n in fixture_decorators for n in _decorators(ctx, node, fscope.parent))}
            node = func.node
            shares = isinstance(node, cst.FunctionDef) and bool(_params(node) & async_fixtures)
            for call, scope in ctx.facts.calls:
                if shares:
                    break
                if scope.function is func:
                    callee = ctx.callee(call, scope)
                    shares = callee is not None and callee not in sync_clients and (
                        callee in loop_bound or ctx.catalog.canonical_type(callee) in loop_bound)
            cache[key] = shares
        return cache[key]

    def _calls(self, ctx: FileContext, fixture_decorators: frozenset[str]) -> Iterator[Report]:
        sync_clients = table_names(ctx, "sync-test-clients", "names")
        async_context: dict[int, str | None] = {}
        for call, scope in ctx.facts.calls:
            callee = ctx.callee(call, scope)
            if callee is None:
                continue
            kind = ctx.catalog.canonical_type(callee)
            if "AL702" in self.enabled and kind in ("httpx.AsyncClient", "httpx.Client"):
                arg = keyword(call, "app")
                if arg is not None:
                    shown = dotted_name(call.func) or kind
                    transport = TRANSPORTS[kind]
                    yield Report("AL702", call,
                                 f"`{shown}(app=...)` no longer works: httpx 0.28 removed the `app` argument "
                                 f"(TypeError on current httpx)",
                                 f"use `{shown}(transport={transport}(app={dotted_name(arg.value) or 'app'}), "
                                 f"...)`",
                                 fix=_transport_fix(ctx, call, arg, transport))
                continue
            if "AL704" not in self.enabled or callee not in sync_clients or not scope.in_async_function:
                continue
            func = scope.function
            assert func is not None
            key = id(func.node)
            if key not in async_context:
                label = None
                node = func.node
                if isinstance(node, cst.FunctionDef) and func.parent is not None:
                    decorators = _decorators(ctx, node, func.parent)
                    if any(name in fixture_decorators for name in decorators):
                        label = f"async fixture `{node.name.value}`"
                    elif ctx.is_test_file and node.name.value.startswith("test"):
                        label = f"async test `{node.name.value}`"
                async_context[key] = label
            label = async_context[key]
            if label is None or not self._shares_loop_state(ctx, func, fixture_decorators, sync_clients):
                continue
            yield Report("AL704", call,
                         f"the sync `TestClient` is used in {label}: it runs the app on its own event loop in a "
                         f"thread and blocks this one until each request ends",
                         "use `httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=\"http://test\")` "
                         "with `await`, or make the test a plain `def`")
