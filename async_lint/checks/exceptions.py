"""AL502, AL503: exceptions of concurrent work that nobody looks at.

AL502: `await asyncio.gather(..., return_exceptions=True)` turns every failure into a value in the result list; a
caller that discards the list, or reads it without an `isinstance` check, never sees the failures. Not reported:
results returned or handed to another function (the receiver may check them), any `isinstance()` in the function,
test files, the cleanup idiom of waiting for cancelled tasks (`t.cancel()` ... `await gather(*tasks,
return_exceptions=True)`, or the same wait in an `except`/`finally` block), draining `asyncio.all_tasks()`, and
awaitables that all call functions of this module which catch their own exceptions (`try: ... except Exception:
log...` as their last statement, no re-raise).

AL503: a task stored in a local name or a `self._x` attribute that nothing ever reads again: it is never awaited,
cancelled or given a done-callback, so its exception is only logged ("Task exception was never retrieved") when
it is garbage-collected. Any read of the name (or, for attributes, of `._x` anywhere in the module, or the string
"_x") counts as handling it. A task not stored at all is AL202's; `_ = create_task(...)`, which AL202 does not
see, is reported here (nothing keeps it, nothing reads its exception).
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from async_lint.checks import Rule
from async_lint.checks._util import NESTED_SCOPES, keyword, table_names, tail, walk
from async_lint.checks.coroutines import _loop_like
from async_lint.context import FileContext
from async_lint.finding import Report
from async_lint.walker import Scope, dotted_name

# Uses of a result list that read its elements, and calls that only measure or reshape it.
_ELEMENT_READERS = frozenset({"zip", "enumerate", "list", "tuple", "reversed", "iter", "next", "sorted"})
_NEUTRAL_CALLS = frozenset({"len", "bool"})
# Functions whose job is to wait for work to end, whatever happened to it: shutdown, cleanup, draining.
_CLEANUP_WORDS = ("close", "stop", "shutdown", "cleanup", "clean_up", "teardown", "drain", "disconnect", "dispose",
                  "terminate", "kill", "cancel", "aexit", "finalize", "wait_closed", "join")


def _is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _names_in(node: cst.CSTNode) -> list[str]:
    """The plain names bound by an assignment or loop target (`a`, `a, b`, `(a, [b, *c])`)."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [name for element in node.elements for name in _names_in(element.value)]
    if isinstance(node, cst.StarredElement):
        return _names_in(node.value)
    return []


def _references(root: cst.CSTNode, name: str, skip: set[int]) -> list[cst.Name]:
    """Every `Name` node spelled `name` under `root` (nested functions included), except those in `skip`."""
    return [n for n in walk(root, into_nested=True)
            if isinstance(n, cst.Name) and n.value == name and id(n) not in skip]


def _reads(ctx: FileContext, root: cst.CSTNode, name: str) -> list[cst.Name]:
    """The references to `name` under `root` that are not plain `name = ...` stores."""
    return [n for n in _references(root, name, set())
            if not isinstance(ctx.facts.parent_of(n), cst.AssignTarget)]


def _has_isinstance(root: cst.CSTNode) -> bool:
    for node in walk(root, into_nested=True):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("isinstance",
                                                                                                  "issubclass"):
            return True
    return False


def _bound_value(owner: Scope, name: str) -> cst.BaseExpression | None:
    """The one value `name` is bound to in the function (`x = ...`, `x: T = ...`, `(x := ...)`), if only one."""
    values = []
    for node in walk(owner.node, into_nested=False):
        if isinstance(node, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                                for t in node.targets):
            values.append(node.value)
        elif isinstance(node, (cst.AnnAssign, cst.NamedExpr)) and isinstance(node.target, cst.Name) \
                and node.target.value == name and node.value is not None:
            values.append(node.value)
    return values[0] if len(values) == 1 else None


def _drains_all_tasks(call: cst.Call, owner: Scope) -> bool:
    """`gather(*asyncio.all_tasks(), return_exceptions=True)` (also through a name bound to it): waiting for
    whatever is left before a loop closes, whatever happened to it."""
    for arg in call.args:
        if arg.keyword is not None:
            continue
        value = arg.value
        if isinstance(value, cst.Name):
            value = _bound_value(owner, value.value) or value
        if any(isinstance(n, cst.Call) and tail(dotted_name(n.func)) == "all_tasks" for n in walk(value)):
            return True
    return False


def _catches_everything(func: cst.FunctionDef) -> bool:
    """The function handles its own failures: its body ends in `try:` with an `except Exception` (or broader)
    handler that does not re-raise, and nothing before that `try` waits (only checks and early returns)."""
    body = list(func.body.body) if isinstance(func.body, cst.IndentedBlock) else []
    if not body or not isinstance(body[-1], cst.Try):
        return False
    if any(isinstance(n, cst.Await) for stmt in body[:-1] for n in walk(stmt)):
        return False
    for handler in body[-1].handlers:
        caught = handler.type
        names = [dotted_name(e.value) for e in caught.elements] if isinstance(caught, cst.Tuple) else \
            [dotted_name(caught) if caught is not None else "BaseException"]
        if any(tail(n or "") in ("Exception", "BaseException") for n in names) and not any(
                isinstance(n, cst.Raise) for n in walk(handler.body)):
            return True
    return False


def _callee_def(ctx: FileContext, func: cst.BaseExpression, scope: Scope) -> cst.FunctionDef | None:
    """The `def` of this module a call names: `helper(...)`, or `self.method(...)` of the enclosing class."""
    bindings = None
    if isinstance(func, cst.Name):
        found = ctx.resolver.lookup(func.value, scope)
        bindings = found[1] if found is not None else None
    elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        owner = scope.function
        if owner is not None and func.value.value == owner.self_name and owner.class_scope is not None:
            bindings = owner.class_scope.bindings.get(func.attr.value)
    if bindings and len(bindings) == 1 and bindings[0][0] == "def":
        return bindings[0][1]
    return None


def _all_guarded(ctx: FileContext, call: cst.Call, owner: Scope, scope: Scope) -> bool:
    """Every awaitable of the gather is a call (or a task made from one, or one per element of a comprehension)
    of a function of this module that catches its own exceptions: the returned list holds no failure to miss."""
    awaitables: list[cst.BaseExpression] = []
    for arg in call.args:
        if arg.keyword is not None:
            continue
        value = arg.value
        if arg.star == "*":
            if isinstance(value, cst.Name):
                value = _bound_value(owner, value.value) or value
            if not isinstance(value, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
                return False
            value = value.elt
        awaitables.append(value)
    for value in awaitables:
        if (isinstance(value, cst.Call) and tail(dotted_name(value.func)) in ("create_task", "ensure_future")
                and value.args):
            value = value.args[0].value
        if not isinstance(value, cst.Call):
            return False
        found = _callee_def(ctx, value.func, scope)
        if found is None or found.asynchronous is None or not _catches_everything(found):
            return False
    return bool(awaitables)


class _Uses:
    """How a function uses the names a gather's results were bound to."""

    def __init__(self, ctx: FileContext, func: cst.CSTNode):
        self.facts = ctx.facts
        self.func = func
        self.unchecked = 0  # reads of an element without a check
        self.handed_on = False  # passed, returned, stored: someone else may check

    def list_name(self, name: str, skip: set[int]) -> None:
        for ref in _references(self.func, name, skip):
            parent = self.facts.parent_of(ref)
            if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is ref:
                self.unchecked += 1
                self.loop_target(parent.target)
            elif isinstance(parent, cst.Subscript) and parent.value is ref:
                self.unchecked += 1
                self._element(parent)
            elif isinstance(parent, cst.Attribute) and parent.value is ref:
                continue  # `results.count(None)`: the list itself
            elif isinstance(parent, cst.Arg):
                call = self.facts.parent_of(parent)
                func = call.func if isinstance(call, cst.Call) else None
                fname = func.value if isinstance(func, cst.Name) else ""
                if fname in _NEUTRAL_CALLS:
                    continue
                if fname in _ELEMENT_READERS:
                    self.unchecked += 1
                    outer = self.facts.parent_of(call)
                    if isinstance(outer, (cst.For, cst.CompFor)) and outer.iter is call:
                        target = outer.target
                        if fname in ("zip", "enumerate") and isinstance(target, (cst.Tuple, cst.List)):
                            # `for user, result in zip(users, results)`: only `result` holds our elements.
                            index = call.args.index(parent) + (fname == "enumerate")
                            elements = target.elements
                            target = elements[index].value if index < len(elements) else target
                        self.loop_target(target)
                    elif not isinstance(outer, (cst.For, cst.CompFor)):
                        self.handed_on = True  # `pairs = list(zip(...))`: followed no further
                    continue
                self.handed_on = True
            else:
                self.handed_on = True

    def loop_target(self, target: cst.BaseExpression) -> None:
        """`for r in results:` the loop variables handed to a call (a logger, a handler) may be checked there."""
        for name in _names_in(target):
            self.element_name(name, {id(n) for n in walk(target) if isinstance(n, cst.Name)})

    def element_name(self, name: str, skip: set[int]) -> None:
        for ref in _references(self.func, name, skip):
            self._element(ref)

    def _element(self, ref: cst.CSTNode) -> None:
        parent = self.facts.parent_of(ref)
        if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is ref:
            self.unchecked += 1
        elif isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is ref:
            self.unchecked += 1
        elif isinstance(parent, (cst.Arg, cst.Return, cst.Yield, cst.Assign, cst.AnnAssign, cst.Element,
                                 cst.DictElement, cst.FormattedStringExpression)):
            self.handed_on = True
        else:
            self.handed_on = True  # compared, tested, raised...: read in a way we do not follow


class UncheckedConcurrencyErrors(Rule):
    codes = ("AL502", "AL503")

    def check(self, ctx: FileContext) -> Iterator[Report]:
        if "AL502" in self.enabled and not ctx.is_test_file:
            # Tests fire concurrent calls to provoke races and assert on the outcome, not on each result.
            yield from self._gathers(ctx)
        if "AL503" in self.enabled:
            yield from self._tasks(ctx)

    # ------------------------------------------------------------------ AL502
    def _gathers(self, ctx: FileContext) -> Iterator[Report]:
        gathers = table_names(ctx, "gather-functions", "names")
        facts = ctx.facts
        cancels: dict[int, bool] = {}
        for call, scope in facts.calls:
            if tail(dotted_name(call.func)) != "gather":
                continue
            flag = keyword(call, "return_exceptions")
            if flag is None or not _is_true(flag.value) or ctx.callee(call, scope) not in gathers:
                continue
            owner = scope.function
            awaited = facts.parent_of(call)
            if owner is None or not isinstance(awaited, cst.Await):
                continue
            use = facts.parent_of(awaited)
            shown = dotted_name(call.func) or "gather"
            if isinstance(use, cst.Expr):
                if self._cleanup(ctx, awaited, owner, cancels) or _drains_all_tasks(call, owner):
                    continue
                if _all_guarded(ctx, call, owner, scope):
                    continue
                yield Report("AL502", call,
                             f"`await {shown}(..., return_exceptions=True)` discards its results: every exception "
                             f"the awaitables raised is returned in that list, so the failures vanish silently",
                             "keep the results and check them (`for r in results: if isinstance(r, Exception): "
                             "...`), or drop `return_exceptions=True` to let the first failure raise")
                continue
            uses = _Uses(ctx, owner.node)
            if isinstance(use, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in use.targets] if isinstance(use, cst.Assign) else [use.target]
                if len(targets) != 1 or not _names_in(targets[0]):
                    continue
                target = targets[0]
                if any(n in owner.declared_global for n in _names_in(target)):
                    continue
                skip = {id(n) for n in walk(target) if isinstance(n, cst.Name)}
                if isinstance(target, cst.Name):
                    uses.list_name(target.value, skip)
                    never_read = not _references(owner.node, target.value, skip)
                else:
                    for name in _names_in(target):
                        uses.element_name(name, skip)
                    never_read = False
            elif isinstance(use, (cst.For, cst.CompFor)) and use.iter is awaited:
                uses.unchecked += 1
                uses.loop_target(use.target)
                never_read = False
            else:
                continue  # returned, passed on, compared: someone else's to check
            if uses.handed_on or (not uses.unchecked and not never_read) or _has_isinstance(owner.node):
                continue
            how = "are never read" if never_read else "are used with no `isinstance(..., Exception)` check"
            yield Report("AL502", call,
                         f"the results of `{shown}(..., return_exceptions=True)` {how}: the exceptions it returns "
                         f"in place of values go unnoticed (or fail later, far from their cause)",
                         "check each result (`if isinstance(r, Exception): ...`) before using it, or drop "
                         "`return_exceptions=True` to let the first failure raise")

    @staticmethod
    def _cleanup(ctx: FileContext, node: cst.CSTNode, owner: Scope, cancels: dict[int, bool]) -> bool:
        """Waiting for tasks to finish cancelling or shutting down: the function cancels something, is named like
        a shutdown (`close`, `stop`, `drain`, ...), or the wait is in an `except`/`finally` block."""
        if any(word in owner.name.lower() for word in _CLEANUP_WORDS):
            return True
        for ancestor in ctx.facts.ancestors(node):
            if ancestor is owner.node or isinstance(ancestor, NESTED_SCOPES):
                break
            if isinstance(ancestor, (cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)):
                return True
        key = id(owner.node)
        if key not in cancels:
            cancels[key] = any(isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                               and n.func.attr.value == "cancel" for n in walk(owner.node, into_nested=True))
        return cancels[key]

    # ------------------------------------------------------------------ AL503
    def _tasks(self, ctx: FileContext) -> Iterator[Report]:
        factories = table_names(ctx, "task-factories", "names")
        facts = ctx.facts
        attribute_reads: dict[str, int] | None = None
        candidates: list[tuple[cst.CSTNode, cst.Call, Scope, str, bool]] = []
        for node, scope in facts.assigns:
            value = node.value
            if not isinstance(value, cst.Call) or tail(dotted_name(value.func)) not in ("create_task",
                                                                                        "ensure_future"):
                continue
            owner = scope.function
            if owner is None or owner is not scope:
                continue
            if isinstance(node, cst.Assign):
                if len(node.targets) != 1:
                    continue
                target = node.targets[0].target
            else:
                target = node.target
            callee = ctx.callee(value, scope)
            if callee not in factories and not (callee is None and _loop_like(value.func)):
                continue
            if isinstance(target, cst.Name):
                candidates.append((target, value, owner, target.value, False))
            elif (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                  and target.value.value == owner.self_name and owner.class_scope is not None):
                candidates.append((target, value, owner, target.attr.value, True))
        for target, call, owner, name, is_attribute in candidates:
            shown = dotted_name(call.func) or "create_task"
            if is_attribute:
                if attribute_reads is None:
                    attribute_reads = self._attribute_mentions(ctx)
                stored = sum(1 for t, _, _, n, a in candidates if a and n == name)
                if attribute_reads.get(name, 0) > stored:
                    continue
                label = f"`{owner.self_name}.{name}`"
                where = "nothing in this module reads it again"
            else:
                if name in owner.declared_global or _reads(ctx, owner.node, name):
                    continue
                if name == "_":
                    yield Report("AL503", call,
                                 f"the task from `{shown}()` is assigned to `_` and thrown away: once the function "
                                 f"returns it can be garbage-collected before it finishes, and if it fails the "
                                 f"exception is only logged then",
                                 "keep it in a set with `task.add_done_callback(tasks.discard)` and log failures "
                                 "in a done-callback, or use `asyncio.TaskGroup`")
                    continue
                label = f"`{name}`"
                where = f"`{owner.name}` never reads it again"
            yield Report("AL503", call,
                         f"the task from `{shown}()` is stored in {label} but {where}: it is never awaited and "
                         f"has no done-callback, so if it fails the exception is only logged when the task is "
                         f"garbage-collected",
                         "await it (or `asyncio.gather` it) before the work is done, or add a done-callback that "
                         "reads `task.exception()`; for fire-and-forget work keep it in a set with "
                         "`task.add_done_callback(tasks.discard)` and log failures there")

    @staticmethod
    def _attribute_mentions(ctx: FileContext) -> dict[str, int]:
        """How often each attribute name appears in the module (`x._task`, or the string "_task")."""
        counts: dict[str, int] = {}
        for node in walk(ctx.facts.module, into_nested=True):
            if isinstance(node, cst.Attribute):
                counts[node.attr.value] = counts.get(node.attr.value, 0) + 1
            elif isinstance(node, cst.SimpleString):
                text = node.evaluated_value
                if isinstance(text, str) and text.isidentifier():
                    counts[text] = counts.get(text, 0) + 1
        return counts
