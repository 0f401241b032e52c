"""Qualified names and receiver types, answered from the walker's scope tables and the catalog.

`qualify(expr)` turns `t.sleep` (after `import time as t`) into `time.sleep`; `type_of(expr)` knows that `db` is a
`sqlalchemy.orm.Session` because of `db: Session = Depends(get_db)`, or that `_lock` is a `threading.Lock` because
of `_lock = threading.Lock()` at module level. Unknown stays unknown: a name bound locally to something we cannot
type shadows the import of the same name (a local variable called `time` is not the `time` module).
"""

from __future__ import annotations

import builtins
from typing import Callable

import libcst as cst

from async_lint.catalog import Catalog
from async_lint.walker import Binding, Facts, Scope, dotted_name

BUILTINS = frozenset(dir(builtins))
_MAX_DEPTH = 12


def is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


class Resolver:
    def __init__(self, facts: Facts, catalog: Catalog, module_name: str = "",
                 project_lookup: Callable[[str], str | None] | None = None, is_package: bool = False):
        self.facts = facts
        self.catalog = catalog
        self.module_name = module_name
        self.is_package = is_package
        # Hook for the project index: qualified name of a project class -> its canonical type name.
        self.project_lookup = project_lookup
        self._qual_cache: dict[int, str | None] = {}
        self._type_cache: dict[int, str | None] = {}

    # ------------------------------------------------------------------ name lookup
    def lookup(self, name: str, scope: Scope) -> tuple[Scope, list[Binding]] | None:
        """The scope that binds `name` as seen from `scope`, with its bindings (Python's LEGB, classes skipped)."""
        current: Scope | None = scope
        first = True
        while current is not None:
            if name in current.declared_global and current.kind != "module":
                current = self.facts.module_scope
                continue
            if current.kind != "class" or first:
                bindings = current.bindings.get(name)
                if bindings:
                    return current, bindings
            first = False
            current = current.parent
        return None

    def _absolute(self, qualified: str) -> str:
        """Resolve a relative import (`.db.save`) against this module's dotted name."""
        if not qualified.startswith("."):
            return qualified
        level = len(qualified) - len(qualified.lstrip("."))
        rest = qualified[level:]
        package = self.module_name.split(".") if self.module_name else []
        base = package if self.is_package else package[:-1]
        if level > 1:
            base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
        return ".".join([*base, rest] if rest else base)

    def qualify_name(self, name: str, scope: Scope) -> str | None:
        """Qualified name of a bare name: an import, a builtin, or None if it is bound to anything else."""
        found = self.lookup(name, scope)
        if found is None:
            return f"builtins.{name}" if name in BUILTINS else None
        owner, bindings = found
        imported = {payload for kind, payload in bindings if kind == "import"}
        others = [b for b in bindings if b[0] != "import"]
        # `try: import x / except ImportError: x = None` still means the module.
        others = [b for b in others if not (b[0] == "assign" and is_none(b[1]))]
        if len(imported) == 1 and not others:
            return self._absolute(next(iter(imported)))
        if not imported and self.module_name and owner.kind != "class" and all(
            kind in ("def", "class") for kind, _ in bindings
        ):
            # A function or class of this module (nested ones are named after their enclosing function).
            prefix = self.module_name if owner.kind == "module" else f"{self.module_name}.{owner.qualname}"
            return f"{prefix}.{name}"
        return None

    def qualify(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        """Qualified name of a Name/Attribute chain whose head is an import (`np.linalg.norm`)."""
        if isinstance(node, cst.Name):
            return self.qualify_name(node.value, scope)
        if isinstance(node, cst.Attribute):
            base = self.qualify(node.value, scope)
            if base is not None:
                return f"{base}.{node.attr.value}"
        return None

    # ------------------------------------------------------------------ types
    def annotation_type(self, annotation: cst.BaseExpression | None, scope: Scope) -> str | None:
        """The catalog type an annotation names: `Session`, `Optional[Session]`, `Session | None`,
        `Annotated[Session, Depends(get_db)]`, a generic class (`Popen[str]`, `queue.Queue[int]`), or a string
        annotation of a plain name."""
        node = annotation
        for _ in range(4):
            if isinstance(node, cst.Subscript):
                head = self.qualify(node.value, scope) or ""
                tail = head.rsplit(".", 1)[-1]
                if tail in ("Optional", "Annotated") and node.slice:
                    first = node.slice[0].slice
                    node = first.value if isinstance(first, cst.Index) else None
                    continue
                return self.class_type(head) if head else None  # a generic class: `subprocess.Popen[str]`
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
                if is_none(node.right):
                    node = node.left
                    continue
                if is_none(node.left):
                    node = node.right
                    continue
                return None
            if isinstance(node, cst.SimpleString):
                text = node.evaluated_value
                if isinstance(text, str) and text.replace(".", "").replace("_", "").isalnum():
                    try:
                        node = cst.parse_expression(text)
                    except cst.ParserSyntaxError:
                        return None
                    continue
                return None
            break
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        return self.class_type(self.qualify(node, scope))

    def class_type(self, qualified: str | None) -> str | None:
        """The canonical type named by a qualified class name (catalog, then project classes)."""
        if qualified is None:
            return None
        known = self.catalog.canonical_type(qualified)
        if known is None and self.project_lookup is not None:
            known = self.project_lookup(qualified)
        return known

    def _binding_type(self, binding: Binding, scope: Scope, depth: int) -> str | None:
        kind, payload = binding
        if kind == "param" or kind == "ann":
            annotation = payload if kind == "param" else payload[0]
            typed = self.annotation_type(annotation, scope)
            if typed is None and kind == "ann" and payload[1] is not None:
                return self.type_of(payload[1], scope, depth + 1)
            return typed
        if kind == "assign":
            return self.type_of(payload, scope, depth + 1)
        if kind == "with":
            entered = self.type_of(payload, scope, depth + 1)
            if entered is not None:
                info = self.catalog.types.get(entered)
                if info is not None and info.enter:
                    return info.enter
            return entered
        return None

    def name_type(self, name: str, scope: Scope, depth: int = 0) -> str | None:
        found = self.lookup(name, scope)
        if found is None:
            return None
        owner, bindings = found
        types = set()
        for binding in bindings:
            if binding[0] == "assign" and is_none(binding[1]):
                continue
            if binding[0] in ("import", "def", "class"):
                return None
            typed = self._binding_type(binding, owner, depth)
            if typed is None:
                return None
            types.add(typed)
        return types.pop() if len(types) == 1 else None

    def self_attr_type(self, attr: str, scope: Scope, depth: int) -> str | None:
        func = scope.function
        cls = func.class_scope if func is not None else None
        if cls is None:
            return None
        assigned = cls.attr_assigns.get(attr)
        if not assigned:
            return None
        types = set()
        for kind, payload, method_scope in assigned:
            if kind == "assign":
                if is_none(payload):
                    continue
                typed = self.type_of(payload, method_scope or cls, depth + 1)
            elif kind == "ann":
                typed = self.annotation_type(payload[0], method_scope or cls.parent or cls)
                if typed is None and payload[1] is not None and not is_none(payload[1]):
                    typed = self.type_of(payload[1], method_scope or cls, depth + 1)
            else:
                typed = None
            if typed is None:
                return None
            types.add(typed)
        return types.pop() if len(types) == 1 else None

    def type_of(self, node: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
        """The catalog (or project) type of an expression's value, or None when unknown."""
        if depth > _MAX_DEPTH:
            return None
        if depth == 0:
            key = id(node)
            if key in self._type_cache:
                return self._type_cache[key]
            result = self._type_of(node, scope, depth)
            self._type_cache[key] = result
            return result
        return self._type_of(node, scope, depth)

    def _type_of(self, node: cst.BaseExpression, scope: Scope, depth: int) -> str | None:
        catalog = self.catalog
        if isinstance(node, cst.Name):
            func = scope.function
            if (func is not None and func.class_scope is not None and node.value == func.self_name
                    and self.module_name and func.kind == "function"):
                # `self` in a method: an instance of this (project) class.
                return f"{self.module_name}.{func.class_scope.qualname}"
            return self.name_type(node.value, scope, depth)
        if isinstance(node, cst.Call):
            func = node.func
            callee = self.callee(func, scope, depth)
            typed = catalog.factory_type(callee) if callee is not None else None
            if typed is None and callee is not None and self.project_lookup is not None:
                typed = self.project_lookup(callee)
            if typed is not None:
                unless = catalog.factory_unless_keywords.get(typed)
                if unless and any(arg.keyword is not None and arg.keyword.value in unless for arg in node.args):
                    return None
                return typed
            # Calling an instance (a sessionmaker makes sessions).
            receiver = self.type_of(func, scope, depth + 1) if not isinstance(func, cst.Attribute) else None
            if receiver is not None:
                info = catalog.types.get(receiver)
                if info is not None and info.call_returns:
                    return info.call_returns
            # A method whose return type the catalog knows (engine.connect(), executor.submit()).
            if isinstance(func, cst.Attribute):
                receiver = self.type_of(func.value, scope, depth + 1)
                if receiver is not None:
                    info = catalog.types.get(receiver)
                    if info is not None:
                        return info.methods.get(func.attr.value)
            return None
        if isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name):
                func = scope.function
                if func is not None and func.self_name == base.value and func.class_scope is not None:
                    return self.self_attr_type(node.attr.value, scope, depth)
            receiver = self.type_of(base, scope, depth + 1)
            if receiver is not None:
                info = catalog.types.get(receiver)
                if info is not None and node.attr.value not in info.methods:
                    return info.attributes.get(node.attr.value) or info.attributes.get("*")
            return None
        if isinstance(node, cst.Subscript):
            receiver = self.type_of(node.value, scope, depth + 1)
            info = catalog.types.get(receiver) if receiver else None
            return info.subscript if info is not None else None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Divide, cst.BitOr)):
            receiver = self.type_of(node.left, scope, depth + 1)
            info = catalog.types.get(receiver) if receiver else None
            if info is None:
                return None
            return info.div if isinstance(node.operator, cst.Divide) else info.bitor
        if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call):
            callee = self.callee(node.expression.func, scope, depth + 1)
            return catalog.awaited_factories.get(callee) if callee is not None else None
        return None

    def callee(self, func: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
        """What a call's `func` names: `time.sleep`, `requests.Session.get` (method of a typed receiver),
        `builtins.open`; None when unknown."""
        if depth == 0:
            key = id(func)
            if key in self._qual_cache:
                return self._qual_cache[key]
        result = self._callee(func, scope, depth)
        if depth == 0:
            self._qual_cache[id(func)] = result
        return result

    def _callee(self, func: cst.BaseExpression, scope: Scope, depth: int) -> str | None:
        if isinstance(func, cst.Name):
            return self.qualify_name(func.value, scope)
        if isinstance(func, cst.Attribute):
            qualified = self.qualify(func.value, scope)
            if qualified is not None:
                # Class attribute access on an imported class, `redis.Redis.from_url`, or a module function.
                canonical = self.catalog.canonical_type(qualified)
                if canonical is not None and canonical != qualified:
                    return f"{canonical}.{func.attr.value}"
                return f"{qualified}.{func.attr.value}"
            receiver = self.type_of(func.value, scope, depth + 1)
            if receiver is not None:
                return f"{receiver}.{func.attr.value}"
        return None


def call_name(call: cst.Call) -> str | None:
    """The syntactic dotted name of a call (`self.client.get`), for messages."""
    return dotted_name(call.func)
