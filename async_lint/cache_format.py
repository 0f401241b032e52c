"""The cache's data format: JSON with tagged values, decoded only into the result classes listed here.

A cache folder can come from anywhere (a cloned repository may ship one), so loading it must never run code:
no pickle, no marshal, no importing names found in the file. Every JSON object in an entry is a tagged value
`{"@": tag, "v": ...}`: a tuple, set, frozenset, bytes or dict (as pairs), or one of the whitelisted result
classes with its field values in order. Decoded fields are checked against the classes' own annotations, so a
crafted entry either yields exactly the objects a lint could have produced or is rejected as corrupt.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from functools import lru_cache
from typing import Any, Callable

from async_lint.finding import Edit, FileResult, Finding, FixInfo
from async_lint.index import ClassSummary, Deferred, FunctionSummary, ModuleSummary

CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    FileResult, Finding, FixInfo, Edit, ModuleSummary, FunctionSummary, ClassSummary, Deferred)}


class CorruptEntry(ValueError):
    """The bytes are not a result this version of async-lint wrote."""


def _fields(cls: type) -> list[dataclasses.Field]:
    # Fields excluded from comparison (`ModuleSummary.pending_lines`: syntax nodes) are not data: not stored.
    return [f for f in dataclasses.fields(cls) if f.compare]


def encode(value: Any) -> Any:
    """`value` as JSON-ready data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"@": "t", "v": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        items = sorted((encode(item) for item in value), key=repr)
        return {"@": "f" if isinstance(value, frozenset) else "s", "v": items}
    if isinstance(value, bytes):
        return {"@": "b", "v": value.decode("latin-1")}
    if isinstance(value, dict):
        return {"@": "d", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    name = type(value).__name__
    if CLASSES.get(name) is type(value):
        return {"@": name, "v": [encode(getattr(value, f.name)) for f in _fields(type(value))]}
    raise TypeError(f"cannot store {type(value).__name__} in the cache")


def dumps(value: Any) -> str:
    return json.dumps(encode(value), separators=(",", ":"), allow_nan=False)


def decode(data: Any) -> Any:
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict) or set(data) != {"@", "v"}:
        raise CorruptEntry("untagged object")
    tag, raw = data["@"], data["v"]
    if tag == "b":
        if not isinstance(raw, str):
            raise CorruptEntry("bytes")
        return raw.encode("latin-1")
    if not isinstance(raw, list):
        raise CorruptEntry(f"value of {tag!r}")
    if tag == "t":
        return tuple(decode(item) for item in raw)
    if tag in ("s", "f"):
        items = [decode(item) for item in raw]
        if not all(isinstance(item, (str, bytes, int, float, tuple, frozenset)) or item is None for item in items):
            raise CorruptEntry("unhashable set member")
        return set(items) if tag == "s" else frozenset(items)
    if tag == "d":
        out = {}
        for pair in raw:
            if not isinstance(pair, list) or len(pair) != 2:
                raise CorruptEntry("dict item")
            key = decode(pair[0])
            if not isinstance(key, (str, bytes, int, float, tuple, frozenset)) and key is not None:
                raise CorruptEntry("unhashable dict key")
            out[key] = decode(pair[1])
        return out
    cls = CLASSES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise CorruptEntry(f"unknown tag {tag!r}")
    fields = _fields(cls)
    if len(raw) != len(fields):
        raise CorruptEntry(f"{tag}: {len(raw)} values for {len(fields)} fields")
    values = {}
    for spec, item in zip(fields, raw):
        value = decode(item)
        if not _checker(cls, spec.name)(value):
            raise CorruptEntry(f"{tag}.{spec.name}: unexpected {type(value).__name__}")
        values[spec.name] = value
    return cls(**values)


def loads(text: str) -> Any:
    """The object `text` holds; CorruptEntry for anything that is not what `dumps` writes."""
    try:
        return decode(json.loads(text))
    except CorruptEntry:
        raise
    except (ValueError, TypeError, KeyError, RecursionError, UnicodeError, OverflowError) as error:
        raise CorruptEntry(str(error)) from None


# ------------------------------------------------------------------------------- annotations as validators

_SCALARS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: type(v) is int,
    "float": lambda v: type(v) in (int, float),
    "bool": lambda v: type(v) is bool,
    "bytes": lambda v: isinstance(v, bytes),
    "None": lambda v: v is None,
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
    "tuple": lambda v: isinstance(v, tuple),
    "set": lambda v: type(v) is set,
    "frozenset": lambda v: type(v) is frozenset,
}


@lru_cache(maxsize=None)
def _checker(cls: type, name: str) -> Callable[[Any], bool]:
    annotation = next(f.type for f in dataclasses.fields(cls) if f.name == name)
    if not isinstance(annotation, str):  # pragma: no cover - the result modules use string annotations
        annotation = getattr(annotation, "__name__", repr(annotation))
    return _compile(ast.parse(annotation, mode="eval").body)


def _compile(node: ast.expr) -> Callable[[Any], bool]:
    """A predicate for the annotation `node`; an annotation it does not understand accepts nothing."""
    if isinstance(node, ast.Constant):
        if node.value is None:
            return _SCALARS["None"]
        if isinstance(node.value, str):  # a quoted annotation: "ModuleSummary | None"
            return _compile(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _compile(node.left), _compile(node.right)
        return lambda v: left(v) or right(v)
    if isinstance(node, ast.Name):
        if node.id in _SCALARS:
            return _SCALARS[node.id]
        if node.id in CLASSES:
            cls = CLASSES[node.id]
            return lambda v: type(v) is cls
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        outer = node.value.id
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ("list", "set", "frozenset") and len(args) == 1:
            kind, item = _SCALARS[outer], _compile(args[0])
            return lambda v: kind(v) and all(item(x) for x in v)
        if outer == "dict" and len(args) == 2:
            key, val = _compile(args[0]), _compile(args[1])
            return lambda v: isinstance(v, dict) and all(key(k) and val(x) for k, x in v.items())
        if outer == "tuple":
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                item = _compile(args[0])
                return lambda v: isinstance(v, tuple) and all(item(x) for x in v)
            items = [_compile(arg) for arg in args]
            return lambda v: isinstance(v, tuple) and len(v) == len(items) and all(c(x) for c, x in zip(items, v))
    return lambda v: False
