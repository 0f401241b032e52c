"""Blocking calls that wait on nothing in the form or the place they are made (AL101-AL107), and coroutines
that serve nothing concurrent (a command's `asyncio.run(main())`).

A flag that makes the call return at once (`os.waitpid(pid, os.WNOHANG)`), lazy initialisation behind a run-once
guard (`if self._model is None: self._model = ...`), and a helper thread joined at teardown (`__aexit__`, after a
context manager's `yield`). The catalog's `[[nonblocking-flags]]` and `[[teardown-waits]]` tables name the calls.
"""

from __future__ import annotations

import fnmatch
from typing import Iterable, Iterator

import libcst as cst

from async_lint.catalog import Catalog
from async_lint.checks._util import imports_module, keyword as keyword_arg, not_serving, positional, table, walk
from async_lint.context import FileContext
from async_lint.walker import Facts, Scope, dotted_name


def _mentions(expr: cst.BaseExpression, flags: Iterable[str]) -> bool:
    """`os.WNOHANG`, `WNOHANG`, `os.WNOHANG | os.WUNTRACED`: the expression names one of the flags."""
    return any(isinstance(node, cst.Name) and node.value in flags
               or isinstance(node, cst.Attribute) and node.attr.value in flags for node in walk(expr))


def has_nonblocking_flag(call: cst.Call, callee: str, catalog: Catalog) -> bool:
    """`os.waitpid(pid, os.WNOHANG)`: a flag argument that makes the call return at once (`[[nonblocking-flags]]`)."""
    for entry in catalog.tables.get("nonblocking-flags", ()):
        if callee not in entry["calls"]:
            continue
        named = keyword_arg(call, entry["arg"])
        args = positional(call)
        value = named.value if named is not None else args[entry["position"]].value \
            if len(args) > entry["position"] else None
        return value is not None and _mentions(value, entry["flags"])
    return False


def _guarded_name(test: cst.BaseExpression) -> str | None:
    """`x is None` / `self._x is None` / `not self._loaded`: the name a run-once guard tests; in `x is None or
    not x.alive` (re-made when it died) the first operand's."""
    while isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        test = test.left
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return dotted_name(test.expression)
    if (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.Is)
            and isinstance(test.comparisons[0].comparator, cst.Name)
            and test.comparisons[0].comparator.value == "None"):
        return dotted_name(test.left)
    return None


def _assigns(body: cst.CSTNode, name: str) -> bool:
    for node in walk(body):
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            targets = [node.target]
        if any(dotted_name(t) == name for t in targets):
            return True
    return False


def in_run_once_guard(node: cst.CSTNode, facts: Facts) -> bool:
    """Is the call inside `if self._model is None: ... self._model = ...` (or `if not _LOADED: ... _LOADED =
    True`) within its function, or after a hand-written cache's early return (`memo_return`)? Lazy
    initialisation: the body runs once, later calls skip it."""
    child = node
    statement = None
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            if not isinstance(ancestor, cst.FunctionDef) or statement is None:
                return False
            memo = _memo_index(ancestor, facts)
            body = ancestor.body.body if isinstance(ancestor.body, cst.IndentedBlock) else ()
            return memo is not None and any(s is statement for s in body[memo + 1:])
        if isinstance(ancestor, cst.If) and child is ancestor.body:
            name = _guarded_name(ancestor.test)
            if name is not None and _assigns(ancestor.body, name):
                return True
        statement = child
        child = ancestor
    return False


def _memo_index(function: cst.FunctionDef, facts: Facts) -> int | None:
    cache = facts.__dict__.setdefault("_memo_returns", {})
    key = id(function)
    if key not in cache:
        cache[key] = memo_return(function)
    return cache[key]


def _and_operands(test: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The operands of `a and b and c` (the test itself when it is no `and`)."""
    stack = [test]
    while stack:
        test = stack.pop()
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            stack += [test.left, test.right]
        else:
            yield test


def in_dev_only_branch(node: cst.CSTNode, facts: Facts, catalog: Catalog) -> bool:
    """Is the call in the body of `if settings.DEBUG:` / `if GLOBAL_SETTINGS.DEVELOPMENT_MODE:` (a flag the
    `[[dev-only-flags]]` table names, alone or in an `and`) within its function? Development-only code."""
    names = catalog.__dict__.get("_dev_only_flags")
    if names is None:
        names = catalog.__dict__["_dev_only_flags"] = frozenset(
            n.lower() for entry in catalog.tables.get("dev-only-flags", ()) for n in entry["names"])
    child = node
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(ancestor, cst.If) and child is ancestor.body:
            for test in _and_operands(ancestor.test):
                name = dotted_name(test)
                if name is not None and name.rsplit(".", 1)[-1].lower() in names:
                    return True
        child = ancestor
    return False


def memo_return(function: cst.FunctionDef) -> int | None:
    """The index, in the function's body, of a hand-written cache's early return (`if key in APP_CACHE: return
    APP_CACHE[key]`, `and` conditions allowed) when the function also stores what it builds (`APP_CACHE[key] =
    app`), else None. Like `functools.cache`, the statements after it run once per key (AL101-AL107)."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    found: dict[str, int] = {}
    for index, statement in enumerate(body[:20]):
        if not isinstance(statement, cst.If) or not isinstance(statement.body, cst.IndentedBlock):
            continue
        inner = statement.body.body
        if len(inner) != 1 or not isinstance(inner[0], cst.SimpleStatementLine):
            continue
        returned = inner[0].body[0]
        if not (isinstance(returned, cst.Return) and isinstance(returned.value, cst.Subscript)):
            continue
        store = dotted_name(returned.value.value)
        for test in _and_operands(statement.test):
            if (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
                    and isinstance(test.comparisons[0].operator, cst.In)
                    and store is not None and dotted_name(test.comparisons[0].comparator) == store):
                found.setdefault(store, index)
    if not found:
        return None
    for node in walk(function.body):
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Subscript) and (name := dotted_name(target.value)) in found:
                    return found[name]
    return None


def before_a_raise(node: cst.CSTNode, facts: Facts) -> bool:
    """Is the call in an `if` / `else` / `except` block that ends in `raise` (within its function)? The failure
    path: cleanup before giving up (`except IntegrityError: remove(tmp); raise HTTPException(409)`), run rarely."""
    child = node
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(ancestor, cst.IndentedBlock) and ancestor.body and isinstance(
                facts.parent_of(ancestor), (cst.If, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler)):
            last = ancestor.body[-1]
            if (last is not child and isinstance(last, cst.SimpleStatementLine) and last.body
                    and isinstance(last.body[-1], cst.Raise)):
                return True
        child = ancestor
    return False


def _after_yield(node: cst.CSTNode, facts: Facts) -> bool:
    """Is `node` run after a `yield` of its generator: in the `finally:` of a `try` that yields, or in a statement
    that follows one that yields (a context manager's exit)?"""
    child = node
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(ancestor, cst.Try) and child is ancestor.finalbody \
                and any(isinstance(n, cst.Yield) for n in walk(ancestor.body)):
            return True
        if isinstance(ancestor, cst.IndentedBlock):
            for statement in ancestor.body:
                if statement is child:
                    break
                if any(isinstance(n, cst.Yield) for n in walk(statement)):
                    return True
        child = ancestor
    return False


def is_teardown_wait(call: cst.Call, callee: str, scope: Scope, facts: Facts, catalog: Catalog) -> bool:
    """`thread.join()` that stops a helper thread on the way out (`[[teardown-waits]]`): in a function named like
    `__aexit__` / `*shutdown*`, or after the `yield` of a context manager. Once, at exit."""
    function = scope.function
    if function is None:
        return False
    for entry in catalog.tables.get("teardown-waits", ()):
        if callee not in entry["calls"]:
            continue
        if any(fnmatch.fnmatchcase(function.name, p) for p in entry.get("functions", ())):
            return True
        if entry.get("after-yield") and function.has_yield and _after_yield(call, facts):
            return True
    return False


def run_by_cli_main(ctx: FileContext, scope: Scope) -> bool:
    """`asyncio.run(upgrade(args))` in a file that parses a command line (imports argparse, click, typer...): the
    coroutine is the whole program of a command, with nothing else on its loop (`[[not-serving]]` `runners`)."""
    function = scope.function
    if function is None or not function.is_async:
        return False
    cache = ctx.__dict__.setdefault("_fix_cache", {})
    if "cli-mains" not in cache:
        mains: set[str] = set()
        for entry in table(ctx, "not-serving"):
            runners = entry.get("runners")
            if not runners or not imports_module(ctx, entry.get("imports", ())):
                continue
            for call, where in ctx.facts.calls:
                if ctx.callee(call, where) in runners and call.args:
                    inner = call.args[0].value
                    if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name):
                        mains.add(inner.func.value)
        cache["cli-mains"] = frozenset(mains)
    return function.parent is not None and function.parent.kind == "module" and function.name in cache["cli-mains"]


def serves_nothing(ctx: FileContext, scope: Scope) -> bool:
    """AL101-AL107: `not_serving` (CLI commands, start-up code, CLI and script files), or a command's coroutine.
    Cached per function scope (every call in it asks)."""
    cache = ctx.__dict__.setdefault("_fix_cache", {}).setdefault("serves-nothing", {})
    function = scope.function
    key = id(function) if function is not None else 0
    found = cache.get(key)
    if found is None:
        found = cache[key] = not_serving(ctx, scope) or run_by_cli_main(ctx, scope)
    return found
