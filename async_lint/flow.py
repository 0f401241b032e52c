"""Preview facts for the project index about how a function treats what it is handed (issue 13).

- `param_uses`: does a function await a parameter (or hand it to asyncio), or use it as a value (subscript,
  attribute, comparison, formatting)? AL201 then reports a coroutine passed to a project function that uses it
  as a value.
- `is_abstract`: a method whose body only raises `NotImplementedError` (or an `@abstractmethod` stub): AL107's
  chains follow the project's overrides instead.
- `init_attrs` / `attr_call`: `self.session = session` in `__init__`, and `self.session.query(...)` in a method;
  with the types that call sites pass to the constructor (`Provider(session)`), AL107 types the attribute.
"""

from __future__ import annotations

import libcst as cst

from async_lint.walker import Facts, Scope, child_list, dotted_name

# What a coroutine object itself offers (as in checks/coroutines.py): not a use of its result.
COROUTINE_ATTRS = frozenset({"__await__", "send", "throw", "close", "cr_frame", "cr_code", "cr_running",
                             "cr_await", "__name__", "__qualname__"})
# Method names that take an awaitable and run it, whatever the receiver (`loop.run_until_complete`, a TaskGroup).
CONSUMER_METHODS = frozenset({"create_task", "ensure_future", "run_until_complete", "run_coroutine_threadsafe",
                              "gather", "wait_for", "wait", "shield", "as_completed", "start_soon", "spawn",
                              "submit", "run", "add_task", "append", "add", "put", "put_nowait", "extend"})
VALUE_BUILTINS = frozenset({"builtins.len", "builtins.str", "builtins.int", "builtins.float", "builtins.bool",
                            "builtins.list", "builtins.dict", "builtins.sorted", "builtins.sum", "builtins.iter",
                            "builtins.next", "json.dumps"})
# A function that asks what it was handed is ready for a coroutine.
_CHECKERS = frozenset({"builtins.isinstance", "inspect.isawaitable", "inspect.iscoroutine",
                       "asyncio.iscoroutine", "asyncio.isfuture", "builtins.callable", "builtins.hasattr",
                       "builtins.getattr", "builtins.type"})


def positional_params(node: cst.FunctionDef, bound: bool) -> tuple[str, ...]:
    """The names that positional arguments fill, the receiver (`self` / `cls`) left out of a bound method."""
    names = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
    return tuple(names[1:] if bound and names else names)


def _value_use(node: cst.CSTNode, parent: cst.CSTNode | None, facts: Facts) -> str | None:
    """How the value's immediate use treats it as a value, or None."""
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return None if parent.attr.value in COROUTINE_ATTRS else f"`.{parent.attr.value}` is looked up on it"
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return "it is subscripted"
    if isinstance(parent, cst.Index):
        return "it is used as a key or an index"
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node and parent.asynchronous is None:
        return "it is iterated"
    if isinstance(parent, cst.ComparisonTarget):
        parent = facts.parent_of(parent)
    if isinstance(parent, cst.Comparison):
        if all(isinstance(t.operator, (cst.Is, cst.IsNot)) for t in parent.comparisons):
            return None
        return "it is compared"
    if isinstance(parent, cst.BinaryOperation):
        return "it is used in arithmetic or `%` formatting"
    if isinstance(parent, cst.FormattedStringExpression):
        return "it is formatted into a string"
    return None


def _arg_key(arg: cst.Arg, call: cst.Call) -> str | None:
    """Which parameter an argument fills: its position ("0") or keyword ("k:name"); None after `*args`."""
    if arg.star:
        return None
    if arg.keyword is not None:
        return f"k:{arg.keyword.value}"
    position = 0
    for other in call.args:
        if other is arg:
            return str(position)
        if other.star or other.keyword is not None:
            return None
        position += 1
    return None


def call_arg_key(arg: cst.Arg, call: cst.Call, static_receiver: bool) -> str | None:
    """`_arg_key`, prefixed with "C" when the call's receiver is a name the resolver qualifies statically (a
    class or a module: `Handler.handle(self, data)` fills `self` with its first argument)."""
    key = _arg_key(arg, call)
    return None if key is None else ("C" + key if static_receiver else key)


def param_uses(node: cst.FunctionDef, scope: Scope, facts: Facts, resolver, is_project,
               consumers) -> dict[str, str]:
    """Parameter name -> "value:<how it is used>", or "pass:<callee>\\0<key>" when the only uses hand it to
    project functions (the first one kept). A parameter awaited, handed to asyncio or any other call, returned,
    stored, rebound or inspected anywhere in the body is left out: it may well be meant for a coroutine."""
    params = {p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)}
    if scope.self_name:
        params.discard(scope.self_name)
    if not params:
        return {}
    quiet: set[str] = set()
    values: dict[str, str] = {}
    passes: dict[str, str] = {}
    stack: list[cst.CSTNode] = [node.body]
    while stack:
        current = stack.pop()
        t = type(current)
        if t in (cst.FunctionDef, cst.Lambda, cst.ClassDef):
            continue  # a closure may await it later
        if t is cst.Name and current.value in params:
            name = current.value
            parent = facts.parent_of(current)
            if (isinstance(parent, cst.Attribute) and parent.attr is current
                    or isinstance(parent, cst.Arg) and parent.keyword is current):
                pass  # `obj.data`, `f(data=...)`: not the parameter
            elif name in quiet:
                pass
            elif isinstance(parent, cst.Arg) and parent.value is current:
                call = facts.parent_of(parent)
                callee = resolver.callee(call.func, scope) if isinstance(call, cst.Call) else None
                tail = call.func.attr.value if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
                    else None
                if callee in VALUE_BUILTINS and not parent.star:
                    values.setdefault(name, f"it is passed to `{callee.removeprefix('builtins.')}()`")
                elif parent.star:
                    values.setdefault(name, "it is unpacked")
                elif (callee is not None and is_project(callee) and callee not in _CHECKERS
                      and consumers.get(callee) is None and tail not in CONSUMER_METHODS):
                    static = isinstance(call.func, cst.Attribute) and resolver.qualify(call.func.value, scope) \
                        is not None
                    key = call_arg_key(parent, call, static)
                    if key is None:
                        quiet.add(name)
                    else:
                        passes.setdefault(name, f"pass:{callee}\0{key}")
                else:
                    quiet.add(name)  # asyncio, a library, a container's append: it may be awaited there
            else:
                use = _value_use(current, parent, facts)
                if use is not None:
                    values.setdefault(name, use)
                elif not (isinstance(parent, (cst.If, cst.While, cst.IfExp)) and parent.test is current):
                    quiet.add(name)  # awaited, returned, stored, rebound, compared with `is`...
            continue
        stack.extend(child_list(current))
    out = {}
    for name in params - quiet:
        if name in values:
            out[name] = f"value:{values[name]}"
        elif name in passes:
            out[name] = passes[name]
    return out


def is_abstract(node: cst.FunctionDef, decorators: list[str]) -> bool:
    """An abstract method: `@abstractmethod`, or a body that (after a docstring) only raises
    `NotImplementedError`."""
    if any(d.rsplit(".", 1)[-1] == "abstractmethod" for d in decorators):
        return True
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body
    statements = []
    for statement in body:
        small = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
        statements.extend(small)
    if statements and isinstance(statements[0], cst.Expr) and isinstance(statements[0].value,
                                                                       (cst.SimpleString, cst.ConcatenatedString)):
        statements = statements[1:]
    if len(statements) != 1 or not isinstance(statements[0], cst.Raise) or statements[0].exc is None:
        return False
    exc = statements[0].exc
    name = dotted_name(exc.func if isinstance(exc, cst.Call) else exc)
    return name == "NotImplementedError"


def init_attrs(node: cst.FunctionDef, scope: Scope, facts: Facts) -> dict[str, str]:
    """`self.<attr> = <param>` statements of an `__init__`: attribute -> parameter name."""
    params = set(positional_params(node, True)) | {p.name.value for p in node.params.kwonly_params}
    out: dict[str, str] = {}
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                continue
            target, value = small.targets[0].target, small.value
            if (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                    and target.value.value == scope.self_name and isinstance(value, cst.Name)
                    and value.value in params):
                out[target.attr.value] = value.value
    return out


def attr_call(call: cst.Call, scope: Scope) -> tuple[str, str] | None:
    """`self.<attr>.<method>(...)` in a method: (attr, method)."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute)):
        return None
    receiver = func.value
    if isinstance(receiver.value, cst.Name) and scope.self_name and receiver.value.value == scope.self_name:
        return receiver.attr.value, func.attr.value
    return None
