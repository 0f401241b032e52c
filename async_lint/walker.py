"""One pass over a libcst tree that records the facts every rule needs.

libcst's visitor machinery rebuilds every node it visits and its metadata providers each walk the tree again
(measured: 10x the cost of this walk). This walker reads the dataclass fields directly (async_lint.tree), keeps a
parent map, and tracks scopes and name bindings itself, so rules answer their questions from plain tables.
"""

from __future__ import annotations

from typing import Any, Iterator

import libcst as cst

# Re-exported: the checks import these from here.
from async_lint.tree import (_FIELDS_REVERSED, _IS_NODE, _fields, child_list, children,  # noqa: F401
                             dotted_name, module_name_of, push_children_reversed, short_name)

# A binding of a name in a scope: (kind, payload).
#   ("import", qualified name) ("assign", value expr) ("ann", (annotation expr, value expr | None))
#   ("param", annotation expr | None) ("with", context expr) ("def", FunctionDef) ("class", ClassDef) ("other", None)
Binding = tuple[str, Any]


class Scope:
    """A module, class, function or lambda body: where names are bound and whether it runs on the event loop."""

    __slots__ = ("kind", "node", "parent", "is_async", "name", "bindings", "declared_global", "attr_assigns",
                 "self_name", "class_scope", "qualname", "has_yield", "defines_callable", "has_await")

    def __init__(self, kind: str, node: cst.CSTNode, parent: Scope | None, name: str = "", is_async: bool = False):
        self.kind = kind
        self.node = node
        self.parent = parent
        self.is_async = is_async
        self.name = name
        self.bindings: dict[str, list[Binding]] = {}
        self.declared_global: set[str] = set()
        self.attr_assigns: dict[str, list[Any]] = {}  # class scopes: self.<attr> = value / attr: annotation
        self.self_name: str | None = None  # methods: the name of the first parameter
        self.class_scope: Scope | None = None  # methods: the class they belong to
        self.has_yield = False  # functions: a generator (an `async def` with yield makes no coroutine)
        self.defines_callable = False  # functions: defines a nested def or lambda (a factory may return it)
        self.has_await = False  # functions: awaits directly (await, async for, async with)
        parent_q = parent.qualname if parent is not None and parent.kind != "module" else ""
        self.qualname = f"{parent_q}.{name}" if parent_q else name

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def function(self) -> Scope | None:
        """The nearest enclosing function or lambda scope (self included), stopping at a class or the module."""
        scope: Scope | None = self
        while scope is not None and scope.kind not in ("function", "lambda"):
            if scope.kind in ("class", "module"):
                return None
            scope = scope.parent
        return scope

    @property
    def in_async_function(self) -> bool:
        """True when code here runs directly in the body of an `async def`."""
        return self.kind == "function" and self.is_async

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Scope {self.kind} {self.qualname or '<module>'} async={self.is_async}>"


class Facts:
    """What one walk over a module found, for the rules to query."""

    def __init__(self, module: cst.Module):
        self.module = module
        self.module_scope = Scope("module", module, None)
        self.scopes: list[Scope] = [self.module_scope]
        self.parent: dict[int, cst.CSTNode] = {}
        self.scope_of: dict[int, Scope] = {}
        self.calls: list[tuple[cst.Call, Scope]] = []
        self.withs: list[tuple[cst.With, Scope]] = []
        self.functions: list[tuple[cst.FunctionDef, Scope]] = []  # (def node, its own scope)
        self.classes: list[tuple[cst.ClassDef, Scope]] = []
        self.handlers: list[tuple[cst.ExceptHandler, Scope]] = []
        self.whiles: list[tuple[cst.While, Scope]] = []
        self.imports: list[tuple[cst.Import | cst.ImportFrom, Scope]] = []
        self.assigns: list[tuple[cst.Assign | cst.AnnAssign, Scope]] = []

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parent.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        parent = self.parent.get(id(node))
        while parent is not None:
            yield parent
            parent = self.parent.get(id(parent))


def _bind_target(scope: Scope, target: cst.BaseExpression, binding: Binding) -> None:
    if isinstance(target, cst.Name):
        scope.bind(target.value, binding)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _bind_target(scope, element.value, ("other", None))
    elif isinstance(target, cst.StarredElement):
        _bind_target(scope, target.value, ("other", None))
    elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
        func = scope.function
        if func is not None and func.class_scope is not None and target.value.value == func.self_name:
            value = binding[1] if binding[0] == "assign" else None
            if binding[0] == "ann":
                value = binding[1]
            func.class_scope.attr_assigns.setdefault(target.attr.value, []).append((binding[0], value, func))


def _params(params: cst.Parameters) -> list[cst.Param]:
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


# The node types `collect` records something for; every other node only has its children walked.
_SPECIAL = frozenset({
    cst.Call, cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign,
    cst.AugAssign, cst.For, cst.CompFor, cst.With, cst.NamedExpr, cst.ExceptHandler, cst.While, cst.Global,
    cst.Nonlocal, cst.Yield, cst.Await, cst.MatchAs, cst.MatchStar,
})


def collect(module: cst.Module) -> Facts:
    """Walk `module` once and return its facts."""
    facts = Facts(module)
    parent = facts.parent
    scope_of = facts.scope_of
    stack: list[Any] = [(module, facts.module_scope)]

    is_node = _IS_NODE
    append = stack.append
    fields_reversed = _FIELDS_REVERSED

    def push_children(node: cst.CSTNode, scope: Scope) -> None:
        # reversed(child_list(node)), without building the list: pushed last-first, popped in source order.
        cls = type(node)
        names = fields_reversed.get(cls)
        if names is None:
            names = fields_reversed[cls] = _fields(cls)[::-1]
        for name in names:
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                for item in reversed(value):
                    if is_node[type(item)]:
                        parent[id(item)] = node
                        append((item, scope))
            elif is_node[kind]:
                parent[id(value)] = node
                append((value, scope))

    def push(node: cst.CSTNode | None, scope: Scope, owner: cst.CSTNode) -> None:
        if node is not None:
            parent[id(node)] = owner
            stack.append((node, scope))

    special = _SPECIAL
    pop = stack.pop
    while stack:
        node, scope = pop()
        t = type(node)
        if t not in special:  # most nodes: only their children (push_children, inlined)
            names = fields_reversed.get(t)
            if names is None:
                names = fields_reversed[t] = _fields(t)[::-1]
            for name in names:
                value = getattr(node, name)
                kind = type(value)
                if kind is tuple or kind is list:
                    for item in reversed(value):
                        if is_node[type(item)]:
                            parent[id(item)] = node
                            append((item, scope))
                elif is_node[kind]:
                    parent[id(value)] = node
                    append((value, scope))
            continue

        if t is cst.Call:
            facts.calls.append((node, scope))
            scope_of[id(node)] = scope
            push_children(node, scope)
            continue

        if t is cst.FunctionDef:
            scope.bind(node.name.value, ("def", node))
            if scope.kind in ("function", "lambda"):
                scope.defines_callable = True
            is_method = scope.kind == "class"
            fscope = Scope("function", node, scope, node.name.value, is_async=node.asynchronous is not None)
            if is_method:
                fscope.class_scope = scope
            facts.scopes.append(fscope)
            facts.functions.append((node, fscope))
            scope_of[id(node)] = fscope
            params = _params(node.params)
            static = any(dotted_name(d.decorator) == "staticmethod" for d in node.decorators)
            for i, param in enumerate(params):
                fscope.bind(param.name.value, ("param", param.annotation.annotation if param.annotation else None))
                if i == 0 and is_method and not static:
                    fscope.self_name = param.name.value
            # Body first on the stack (runs last), then what is evaluated in the enclosing scope.
            push(node.body, fscope, node)
            for param in reversed(params):
                parent[id(param)] = node.params
                if param.default is not None:
                    push(param.default, scope, param)
                if param.annotation is not None:
                    push(param.annotation.annotation, scope, param)
            parent[id(node.params)] = node
            if node.returns is not None:
                push(node.returns.annotation, scope, node)
            for decorator in reversed(node.decorators):
                push(decorator.decorator, scope, node)
            continue

        if t is cst.Lambda:
            if scope.kind == "function":
                scope.defines_callable = True
            lscope = Scope("lambda", node, scope, "<lambda>")
            facts.scopes.append(lscope)
            scope_of[id(node)] = lscope
            params = _params(node.params)
            for param in params:
                lscope.bind(param.name.value, ("param", None))
            push(node.body, lscope, node)
            for param in reversed(params):
                if param.default is not None:
                    push(param.default, scope, node)
            continue

        if t is cst.ClassDef:
            scope.bind(node.name.value, ("class", node))
            cscope = Scope("class", node, scope, node.name.value)
            facts.scopes.append(cscope)
            facts.classes.append((node, cscope))
            scope_of[id(node)] = cscope
            push(node.body, cscope, node)
            for arg in reversed([*node.bases, *node.keywords]):
                push(arg.value, scope, node)
            for decorator in reversed(node.decorators):
                push(decorator.decorator, scope, node)
            continue

        if t is cst.Import:
            facts.imports.append((node, scope))
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope.bind(alias.asname.name.value, ("import", full))
                else:
                    head = full.split(".", 1)[0]
                    scope.bind(head, ("import", head))
            continue

        if t is cst.ImportFrom:
            facts.imports.append((node, scope))
            base = "." * len(node.relative) + module_name_of(node.module)
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    name = dotted_name(alias.name) or ""
                    sep = "" if base.endswith(".") else "."
                    full = f"{base}{sep}{name}" if base else name
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        scope.bind(alias.asname.name.value, ("import", full))
                    else:
                        scope.bind(name, ("import", full))
            continue

        if t is cst.Assign:
            facts.assigns.append((node, scope))
            for target in node.targets:
                _bind_target(scope, target.target, ("assign", node.value))
        elif t is cst.AnnAssign:
            facts.assigns.append((node, scope))
            _bind_target(scope, node.target, ("ann", (node.annotation.annotation, node.value)))
            if scope.kind == "class" and isinstance(node.target, cst.Name):
                scope.attr_assigns.setdefault(node.target.value, []).append(
                    ("ann", (node.annotation.annotation, node.value), None)
                )
        elif t is cst.AugAssign:
            _bind_target(scope, node.target, ("other", None))
        elif t is cst.For or t is cst.CompFor:
            _bind_target(scope, node.target, ("other", None))
            if node.asynchronous is not None:
                scope.has_await = True
        elif t is cst.With:
            if node.asynchronous is not None:
                scope.has_await = True
            facts.withs.append((node, scope))
            scope_of[id(node)] = scope
            for with_item in node.items:
                if with_item.asname is not None:
                    _bind_target(scope, with_item.asname.name, ("with", with_item.item))
        elif t is cst.NamedExpr:
            _bind_target(scope, node.target, ("assign", node.value))
        elif t is cst.ExceptHandler:
            facts.handlers.append((node, scope))
            scope_of[id(node)] = scope
            if node.name is not None:
                _bind_target(scope, node.name.name, ("other", None))
        elif t is cst.While:
            facts.whiles.append((node, scope))
            scope_of[id(node)] = scope
        elif t is cst.Global or t is cst.Nonlocal:
            for item in node.names:
                scope.declared_global.add(item.name.value)
        elif t is cst.Yield:
            if scope.kind == "function":
                scope.has_yield = True
        elif t is cst.Await:
            scope.has_await = True
        elif t is cst.MatchAs or t is cst.MatchStar:
            if getattr(node, "name", None) is not None:
                _bind_target(scope, node.name, ("other", None))

        push_children(node, scope)

    return facts
