"""Who calls a coroutine function: AL101-AL107 are not reported in an `async def` that only code serving nothing
awaits, in any module of the project.

A blocking call stalls the requests that share its event loop. An `async def` awaited only by CLI commands,
start-up code or scripts (`serves_nothing`: the `[[not-serving]]` table) has no such company, wherever it is
defined: `await config.prepare()` in a `cli/` module makes `prepare`'s `subprocess.run` the command's own work.

Each file publishes `awaited-by` facts: `"<name>\\0<caller>"` for every call of a function named `<name>` made in
an `async def`, or handed on (an argument, a return value) anywhere, where `<caller>` is `!` in code that serves
nothing, else the name of the enclosing function (`*` at module or class level). A decorated `async def` (a
route, a task, a callback registered by its decorator) is an entry point: `"<name>\\0*"`. The project pass then
finds the names that `!` callers reach and serving code does not (`async_lint.serving.cli_only_names`), and drops the findings
whose `unless_cli_only` is one of them. Names stand for every function so named, so more callers only keep findings.
"""

from __future__ import annotations

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import strip_call
from async_lint.checks.nonblocking import serves_nothing
from async_lint.context import FileContext
from async_lint.serving import KEY
from async_lint.walker import Scope, dotted_name, short_name

# Decorators that do not make an entry point of a method.
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod", "abstractmethod", "override", "abc.abstractmethod",
                               "typing.override", "typing_extensions.override"})


def cli_only_candidate(scope: Scope) -> str | None:
    """The name the project pass asks about for a finding made directly in this `async def` (None for a lambda
    or a protocol method like `__aexit__`, which nothing calls by name)."""
    function = scope.function
    if function is None or not function.is_async or not isinstance(function.node, cst.FunctionDef):
        return None
    name = function.name
    return None if name.startswith("__") else name


def awaited_by(ctx: FileContext) -> set[str]:
    facts = ctx.facts
    out: set[str] = set()
    keys: dict[int, str] = {}
    for call, scope in facts.calls:
        name = short_name(call.func)
        if name is None:
            continue
        function = scope.function
        if function is None or not function.is_async:
            parent = facts.parent_of(call)
            if not isinstance(parent, (cst.Arg, cst.Return)):
                continue  # a sync caller runs a coroutine only by handing it on
        key = keys.get(id(scope))
        if key is None:
            if serves_nothing(ctx, scope):
                key = "!"
            else:
                key = function.name if function is not None and function.kind == "function" else "*"
            keys[id(scope)] = key
        out.add(f"{name}\0{key}")
    for node, fscope in facts.functions:
        if fscope.is_async and any((dotted_name(strip_call(d.decorator)) or "") not in _PLAIN_DECORATORS for d in node.decorators):
            out.add(f"{node.name.value}\0{'!' if serves_nothing(ctx, fscope) else '*'}")
    return out


class AwaitedBy(Rule):
    """Reports nothing: publishes the `awaited-by` facts the project pass needs for AL101-AL107."""

    codes = ("AL101", "AL102", "AL103", "AL104", "AL105", "AL106", "AL107", "AL110")

    def check(self, ctx: FileContext):
        return ()

    def summarize(self, ctx: FileContext) -> dict[str, set[str]]:
        return {KEY: awaited_by(ctx)}
