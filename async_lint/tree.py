"""Reading a libcst tree's code-bearing children fast: the dataclass fields that can hold code, read directly.

libcst's own `children` property and visitors build or rebuild nodes; these read the fields of each node class
(computed once per class) and test node-ness with a dict lookup instead of ABCMeta's isinstance.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Literal

import libcst as cst

# Fields that never hold code the rules look at: whitespace, punctuation, and names that are not references.
_SKIP_FIELDS = frozenset(
    {
        "whitespace_before", "whitespace_after", "whitespace_after_star", "whitespace_before_colon",
        "whitespace_after_colon", "header", "footer", "leading_lines", "lines_after_decorators",
        "whitespace_before_params", "whitespace_after_def", "whitespace_after_async", "whitespace_after_await",
        "whitespace_after_lambda", "whitespace_after_arg", "whitespace_after_func", "whitespace_before_args",
        "whitespace_after_at", "whitespace_after_class", "whitespace_after_import", "whitespace_after_from",
        "whitespace_before_import", "whitespace_after_as", "whitespace_before_as", "whitespace_after_for",
        "whitespace_before_in", "whitespace_after_in", "whitespace_before_if", "whitespace_after_if",
        "whitespace_after_while", "whitespace_after_with", "whitespace_after_except", "whitespace_after_return",
        "whitespace_after_raise", "whitespace_after_assert", "whitespace_after_del", "whitespace_after_global",
        "whitespace_after_nonlocal", "whitespace_after_yield", "whitespace_after_else", "whitespace_before_from",
        "whitespace_after_walrus", "whitespace_before_walrus", "whitespace_after_indicator",
        "whitespace_before_indicator", "whitespace_after_match", "whitespace_after_case",
        "whitespace_after_type", "whitespace_after_exec",
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "comma", "semicolon", "newline",
        "trailing_whitespace", "equal", "colon", "dot", "operator", "star", "default_indent", "default_newline",
        "encoding", "has_trailing_newline", "asynchronous", "keyword", "attr", "indent", "relative",
        "prefix", "value_token", "quote", "await_",
    }
)

_FIELDS: dict[type, tuple[str, ...]] = {}
_FIELDS_REVERSED: dict[type, tuple[str, ...]] = {}


def _may_hold_nodes(field: dataclasses.Field) -> bool:
    """False for a field declared as plain text or a flag (`Name.value: str`, `Arg.star: Literal[...]`)."""
    kind = field.type
    return not (kind in (str, bool, int) or getattr(kind, "__origin__", None) is Literal)


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls)
                                     if f.name not in _SKIP_FIELDS and _may_hold_nodes(f))
    return names


class _IsNode(dict):
    """type -> is it a libcst node class. A dict lookup instead of `isinstance(value, cst.CSTNode)`, which goes
    through ABCMeta.__instancecheck__ (millions of calls per run)."""

    def __missing__(self, cls: type) -> bool:
        answer = self[cls] = isinstance(cls, type) and issubclass(cls, cst.CSTNode)
        return answer


_IS_NODE = _IsNode()


def child_list(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The code-bearing children of `node`, in source order."""
    out: list[cst.CSTNode] = []
    is_node = _IS_NODE
    cls = type(node)
    for name in _FIELDS.get(cls) or _fields(cls):
        value = getattr(node, name)
        cls = type(value)
        if cls is tuple or cls is list:
            for item in value:
                if is_node[type(item)]:
                    out.append(item)
        elif is_node[cls]:
            out.append(value)
    return out


def push_children_reversed(node: cst.CSTNode, stack: list) -> None:
    """`stack.extend(reversed(child_list(node)))`, without the list: popped, the children come in source order."""
    cls = type(node)
    names = _FIELDS_REVERSED.get(cls)
    if names is None:
        names = _FIELDS_REVERSED[cls] = _fields(cls)[::-1]
    is_node = _IS_NODE
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in reversed(value):
                if is_node[type(item)]:
                    stack.append(item)
        elif is_node[kind]:
            stack.append(value)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The code-bearing children of `node`, in source order."""
    return iter(child_list(node))


def dotted_name(node: cst.BaseExpression | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def short_name(func: cst.BaseExpression) -> str | None:
    """The name a call is made by: `save` for `save(...)` and for `repo.save(...)`, else None."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def module_name_of(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    return dotted_name(node) or ""
