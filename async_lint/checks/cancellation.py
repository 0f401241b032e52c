"""AL501: a handler in `async def` that catches cancellation and does not re-raise it.

Cancellation can only arrive where the task is suspended, so a `try` whose body never awaits (no `await`,
`async with`, `async for`) cannot see it and is not reported. The idiom of cancelling a task and then waiting for
it (`task.cancel()` ... `try: await task` / `except CancelledError: pass`) is not reported either: the
CancelledError caught there is the child's (also for `self._task`, cancelled in another method). Nor is a handler
inside an enclosing `except` that re-raises, or inside a `finally:` (the exception in flight goes on when it
ends), nor one that keeps the exception (`pending = exc`) which the function raises later (`raise pending`).

By default a handler is reported only when the cancelled task keeps going: the handler falls through into a loop
that comes round again, into later code that awaits, or awaits in the handler itself. One that returns or runs to
the end of the function is reported when this file awaits the function (the caller's task carries on with its
result); as a task's own coroutine it ends the task as if it had succeeded (reported in preview).
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, handler_type_names, table_names, walk
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.fix.shared import awaited_names as awaited_names_in_file
from async_lint.walker import dotted_name


def awaits(node: cst.CSTNode) -> bool:
    """Whether code directly in `node` (not in nested defs) can suspend."""
    for child in walk(node):
        if isinstance(child, cst.Await):
            return True
        if isinstance(child, (cst.With, cst.For)) and child.asynchronous is not None:
            return True
        if isinstance(child, cst.CompFor) and child.asynchronous is not None:
            return True
    return False


def reraises(handler: cst.ExceptHandler) -> tuple[bool, str | None]:
    """(re-raises the caught exception, name of another exception it raises instead)."""
    caught = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) \
        else None
    other = None
    for node in walk(handler.body):
        if not isinstance(node, cst.Raise):
            continue
        if node.exc is None:
            return True, None
        if caught is not None and isinstance(node.exc, cst.Name) and node.exc.value == caught:
            return True, None
        if caught is not None and _with_traceback_of(node.exc, caught):
            return True, None  # `raise exc.with_traceback(tb)`
        exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
        name = dotted_name(exc) or ""
        if name.rsplit(".", 1)[-1].endswith(("CancelledError", "Cancelled")):
            return True, None  # a CancelledError subclass of the project's own: still cancellation
        other = other or name or "another exception"
    return False, other


def _with_traceback_of(exc: cst.BaseExpression, caught: str) -> bool:
    return isinstance(exc, cst.Call) and isinstance(exc.func, cst.Attribute) \
        and exc.func.attr.value == "with_traceback" and isinstance(exc.func.value, cst.Name) \
        and exc.func.value.value == caught


def enclosing_reraise(facts, node: cst.CSTNode) -> bool:
    """`node` is in the body of an enclosing `except` (same function) that re-raises, or in an enclosing
    `finally:`: a cancellation swallowed here arrived during cleanup, and the handler's own `raise` (the
    `finally`'s implicit re-raise of the exception in flight) still ends the task. Not a `finally` inside a loop:
    reached without an exception in flight, the swallowed cancellation would let the loop go on.

        except BaseException:
            try:
                await rollback()
            except BaseException:   # not reported
                log.exception("rollback failed")
            raise
    """
    previous = node
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, NESTED_SCOPES):
            return False
        if isinstance(ancestor, cst.ExceptHandler) and previous is ancestor.body and reraises(ancestor)[0]:
            return True
        if isinstance(ancestor, cst.Finally) and previous is ancestor.body:
            # Reached without an exception in flight, a swallowed cancellation lets a loop around go on.
            return not _in_loop(facts, ancestor)
        previous = ancestor
    return False


def _in_loop(facts, node: cst.CSTNode) -> bool:
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, NESTED_SCOPES):
            return False
        if isinstance(ancestor, (cst.For, cst.While)):
            return True
    return False


def _returns(handler: cst.ExceptHandler) -> bool:
    """The handler's own statements (not nested blocks) include a `return`."""
    return any(isinstance(line, cst.SimpleStatementLine) and any(isinstance(st, cst.Return) for st in line.body)
               for line in handler.body.body)


def keeps_going(facts, try_node: cst.Try, handler: cst.ExceptHandler) -> bool:
    """After the handler, can the function reach another suspension point (the cancelled task really goes on)?
    It does when the handler falls through into a loop that comes round again, or into later statements that
    await. A handler that returns, or falls through to the end of the function, ends the task."""
    if _returns(handler):
        return False
    if awaits(handler.body):
        return True  # the handler itself goes on with async work
    breaks = any(isinstance(line, cst.SimpleStatementLine) and any(isinstance(st, cst.Break) for st in line.body)
                 for line in handler.body.body)
    node: cst.CSTNode = try_node
    while True:
        parent = facts.parent_of(node)
        if parent is None or isinstance(parent, NESTED_SCOPES):
            return False
        if isinstance(parent, (cst.For, cst.While)) and node is parent.body:
            if not breaks:
                return True  # the loop comes round again
            breaks = False  # the break leaves this loop; what follows it counts
        if isinstance(parent, (cst.IndentedBlock, cst.Module)):
            following = parent.body[[id(n) for n in parent.body].index(id(node)) + 1:]
            if any(awaits(statement) for statement in following):
                return True
        node = parent


def stored_for_later(handler: cst.ExceptHandler, function: cst.CSTNode) -> bool:
    """`except CancelledError as exc: pending = exc` and, later in the function, `raise pending`: the cancellation
    is re-raised once the cleanup the code shields is done."""
    caught = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) \
        else None
    if caught is None:
        return False
    stores: set[str] = set()
    for node in walk(handler.body):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value == caught:
            stores.update(name for t in node.targets if (name := dotted_name(t.target)) is not None)
    if not stores:
        return False
    return any(isinstance(node, cst.Raise) and node.exc is not None and dotted_name(node.exc) in stores
               for node in walk(function))


def shielded(facts, node: cst.CSTNode) -> bool:
    """Inside `with anyio.CancelScope(shield=True):` (or any `with X(..., shield=True)`) in the same function:
    cancellation from outside cannot be delivered there."""
    for ancestor in facts.ancestors(node):
        if isinstance(ancestor, NESTED_SCOPES):
            return False
        if isinstance(ancestor, cst.With):
            for item in ancestor.items:
                call = item.item
                if isinstance(call, cst.Call) and any(
                    arg.keyword is not None and arg.keyword.value == "shield"
                    and isinstance(arg.value, cst.Name) and arg.value.value == "True" for arg in call.args
                ):
                    return True
    return False


def awaited_names(node: cst.CSTNode) -> set[str]:
    """Dotted names mentioned inside the `await` expressions directly in `node`."""
    out: set[str] = set()
    for child in walk(node):
        if isinstance(child, cst.Await):
            for inner in walk(child.expression):
                if isinstance(inner, (cst.Name, cst.Attribute)):
                    text = dotted_name(inner)
                    if text:
                        out.add(text)
    return out


class SwallowedCancellation(Rule):
    codes = ("AL501",)

    def check(self, ctx: FileContext) -> Iterator[Report]:
        catching = table_names(ctx, "cancellation", "names")
        cancelled: dict[int, set[str]] | None = None
        for handler, scope in ctx.facts.handlers:
            if not scope.in_async_function:
                continue
            names = handler_type_names(ctx, handler, scope)
            if names is None:
                label = "a bare `except:`"
            else:
                hits = [n for n in names if n in catching]
                if not hits:
                    continue
                label = f"`except {dotted_name(handler.type) or hits[0]}`" if len(names) == 1 else \
                    f"`except (...)` with `{hits[0].removeprefix('builtins.')}`"
            try_node = ctx.facts.parent_of(handler)
            if not isinstance(try_node, cst.Try) or not awaits(try_node.body):
                continue
            if self._caught_earlier(ctx, try_node, handler, scope, catching):
                continue  # an earlier `except CancelledError:` of this try gets the cancellation (judged itself)
            again, other = reraises(handler)
            if again or shielded(ctx.facts, try_node) or enclosing_reraise(ctx.facts, try_node) \
                    or stored_for_later(handler, scope.node):
                continue
            if cancelled is None:
                cancelled = self._cancelled(ctx)
            if awaited_names(try_node.body) & (cancelled.get(id(scope.node), set())
                                               | self._class_cancelled(cancelled, scope)):
                continue  # `task.cancel()` then `try: await task / except CancelledError: pass`
            going = keeps_going(ctx.facts, try_node, handler)
            awaited_here = False
            if other is None and not going and not (ctx.settings is not None and ctx.settings.preview):
                # The function ends as if it had succeeded. As a task's own coroutine that ends the task (reported
                # in preview only); awaited by a caller in this file, the caller's task carries on with the result.
                if scope.name not in awaited_names_in_file(ctx):
                    continue
                awaited_here = True
            if other is not None:
                message = (f"{label} in `async def {scope.name}` turns cancellation into `{other}`: the task no "
                           f"longer ends as cancelled, so `asyncio.timeout()`, `wait_for` and TaskGroups misread it")
            elif _returns(handler):
                message = (f"{label} in `async def {scope.name}` returns instead of re-raising "
                           f"`asyncio.CancelledError`: the task ends as if it had succeeded, so `asyncio.timeout()`, "
                           f"TaskGroups and whoever cancelled it never see it end as cancelled")
            else:
                message = (f"{label} in `async def {scope.name}` catches `asyncio.CancelledError` and does not "
                           f"re-raise it: the cancelled task keeps going, and timeouts and shutdown can hang")
            suggestion = "catch `Exception` instead (CancelledError is not one), or end the handler with `raise`"
            if names is not None and any(n.endswith("CancelledError") for n in names):
                suggestion = "re-raise it with `raise` after cleaning up (or stop catching CancelledError)"
            if awaited_here:
                message = (f"{label} in `async def {scope.name}` does not re-raise `asyncio.CancelledError`: "
                           f"`{scope.name}()` returns as if it had succeeded, and the task awaiting it carries on")
            yield Report("AL501", handler, message, suggestion)

    @staticmethod
    def _caught_earlier(ctx: FileContext, try_node: cst.Try, handler: cst.ExceptHandler, scope,
                        catching: frozenset[str]) -> bool:
        for earlier in try_node.handlers:
            if earlier is handler:
                return False
            names = handler_type_names(ctx, earlier, scope)
            if names is None or any(n in catching or n.endswith("CancelledError") for n in names):
                return True
        return False

    @staticmethod
    def _class_cancelled(cancelled: dict[int, set[str]], scope) -> set[str]:
        """`self.<attr>` tasks some method of this method's class cancels, spelled with this method's self."""
        if scope.self_name is None or scope.class_scope is None:
            return set()
        found = cancelled.get(id(scope.class_scope.node), set())
        return {scope.self_name + name[len("self"):] for name in found}

    @staticmethod
    def _cancelled(ctx: FileContext) -> dict[int, set[str]]:
        """Per function node: dotted names of what it `.cancel()`s (and the collections those come from)."""
        out: dict[int, set[str]] = {}
        for call, scope in ctx.facts.calls:
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "cancel"):
                continue
            owner = scope.function
            if owner is None:
                continue
            receiver = dotted_name(func.value)
            if receiver is None:
                continue
            names = out.setdefault(id(owner.node), set())
            names.add(receiver)
            # `self._task.cancel()` in one method, `await self._task` in another: the class's own task.
            if owner.self_name is not None and owner.class_scope is not None \
                    and receiver.startswith(owner.self_name + "."):
                out.setdefault(id(owner.class_scope.node), set()).add("self" + receiver[len(owner.self_name):])
            # `for t in tasks: t.cancel()` / `[t.cancel() for t in tasks]` cancel `tasks`.
            for ancestor in ctx.facts.ancestors(call):
                if isinstance(ancestor, NESTED_SCOPES):
                    break
                if isinstance(ancestor, (cst.For, cst.CompFor)) and dotted_name(ancestor.target) == receiver:
                    iterated = dotted_name(ancestor.iter)
                    if iterated is None and isinstance(ancestor.iter, cst.Call):
                        # `for t in self._tasks.values()` / `list(tasks)`
                        inner = ancestor.iter
                        iterated = dotted_name(inner.func.value) if isinstance(inner.func, cst.Attribute) \
                            else (dotted_name(inner.args[0].value) if inner.args else None)
                    if iterated:
                        names.add(iterated)
        return out
