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


@lru_cache(maxsize=None)
def _fields(cls: type) -> list[dataclasses.Field]:
    # Fields excluded from comparison (`ModuleSummary.pending_lines`: syntax nodes) are not data: not stored.
    return [f for f in dataclasses.fields(cls) if f.compare]


@lru_cache(maxsize=None)
def _decoders(cls: type) -> tuple[tuple[str, Callable[[Any], bool]], ...]:
    """(field name, validator) of each stored field of a result class, in order."""
    return tuple((f.name, _checker(cls, f.name)) for f in _fields(cls))


# What json.loads yields for scalars (exact types: it makes no subclasses).
_PLAIN = frozenset({type(None), bool, int, float, str})
# What decode yields that a set or a dict key may hold.
_HASHABLE = _PLAIN | {bytes, tuple, frozenset}


def encode(value: Any) -> Any:
    """`value` as JSON-ready data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"@": "t", "v": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        if value and all(type(item) is bytes and item and b"\n" not in item for item in value):
            # The words of a file (names it calls, words of its import lines): one string, not an object per
            # word (a fifth of a cache file, and most of the decoding of a file the pre-filter skipped).
            tag = "w" if isinstance(value, frozenset) else "W"
            return {"@": tag, "v": b"\n".join(sorted(value)).decode("latin-1")}
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


def _bytes(data: Any) -> bytes | None:
    """What decode makes of a tagged bytes value; None for anything else."""
    if type(data) is dict and len(data) == 2 and data.get("@") == "b":
        raw = data.get("v")
        if type(raw) is str:
            return raw.encode("latin-1")
    return None


def decode(data: Any) -> Any:
    """The value `encode` made `data` from (a warm run decodes every file's result: type tests, not isinstance
    chains, and no call for the plain items of a list)."""
    kind = type(data)
    if kind in _PLAIN:
        return data
    if kind is list:
        return [item if type(item) in _PLAIN else decode(item) for item in data]
    if kind is not dict or len(data) != 2 or "@" not in data or "v" not in data:
        raise CorruptEntry("untagged object")
    tag, raw = data["@"], data["v"]
    if tag == "b":
        if not isinstance(raw, str):
            raise CorruptEntry("bytes")
        return raw.encode("latin-1")
    if tag in ("w", "W"):
        if not isinstance(raw, str) or not raw:
            raise CorruptEntry("words")
        words = raw.encode("latin-1").split(b"\n")
        if not all(words):
            raise CorruptEntry("an empty word")
        return frozenset(words) if tag == "w" else set(words)
    if not isinstance(raw, list):
        raise CorruptEntry(f"value of {tag!r}")
    if tag == "t":
        return tuple([item if type(item) in _PLAIN else decode(item) for item in raw])
    if tag in ("s", "f"):  # mostly sets of bytes (the words of a file the pre-filter skipped): inlined
        items = [item if type(item) in _PLAIN else _bytes(item) or decode(item) for item in raw]
        if not all(type(item) in _HASHABLE for item in items):
            raise CorruptEntry("unhashable set member")
        return set(items) if tag == "s" else frozenset(items)
    if tag == "d":
        out = {}
        for pair in raw:
            if type(pair) is not list or len(pair) != 2:
                raise CorruptEntry("dict item")
            key, value = pair
            if type(key) not in _PLAIN:
                key = decode(key)
                if type(key) not in _HASHABLE:
                    raise CorruptEntry("unhashable dict key")
            out[key] = value if type(value) in _PLAIN else decode(value)
        return out
    cls = CLASSES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise CorruptEntry(f"unknown tag {tag!r}")
    return _class_decoder(cls)(raw)


# Checks of the field annotations that are one test, written into a class's decoder instead of a call.
_INLINE = {"str": "isinstance({v}, str)", "int": "type({v}) is int", "bool": "type({v}) is bool",
           "None": "{v} is None", "float": "type({v}) in (int, float)"}


def _inline_check(node: ast.expr, var: str) -> str | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return f"{var} is None"
    if isinstance(node, ast.Name) and node.id in _INLINE:
        return _INLINE[node.id].format(v=var)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _inline_check(node.left, var), _inline_check(node.right, var)
        return f"({left} or {right})" if left and right else None
    return None


@lru_cache(maxsize=None)
def _class_decoder(cls: type) -> Callable[[list], Any]:
    """The decoder of one result class's field list, generated once: unpack, decode what is not plain, check
    each field against its annotation (inline when it is one test), build. A warm run decodes thousands of
    findings and deferred questions; the generic loop (a dict, a validator call per field) was most of it."""
    fields = _fields(cls)
    # Positional arguments when the stored fields are exactly the constructor's, in order.
    positional = [f.name for f in dataclasses.fields(cls) if f.init] == [f.name for f in fields]
    names = [f"v{i}" for i in range(len(fields))]
    namespace: dict[str, Any] = {"_cls": cls, "_decode": decode, "_PLAIN": _PLAIN, "CorruptEntry": CorruptEntry}
    lines = ["def _decoder(raw):",
             f"    if len(raw) != {len(fields)}:",
             f"        raise CorruptEntry(f'{cls.__name__}: {{len(raw)}} values for {len(fields)} fields')",
             f"    {', '.join(names)}, = raw"]
    for var, f in zip(names, fields):
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", repr(f.type))
        check = _inline_check(ast.parse(annotation, mode="eval").body, var)
        if check is None:
            namespace[f"_valid_{var}"] = _checker(cls, f.name)
            check = f"_valid_{var}({var})"
        lines += [f"    if type({var}) not in _PLAIN:",
                  f"        {var} = _decode({var})",
                  f"    if not {check}:",
                  f"        raise CorruptEntry(f'{cls.__name__}.{f.name}: unexpected {{type({var}).__name__}}')"]
    arguments = names if positional else [f"{f.name}={var}" for var, f in zip(names, fields)]
    lines.append(f"    return _cls({', '.join(arguments)})")
    exec("\n".join(lines), namespace)  # the source is built from the result classes' own field names only
    return namespace["_decoder"]


def loads(text: str, only: frozenset[str] | None = None) -> Any:
    """The object `text` holds; CorruptEntry for anything that is not what `dumps` writes. `only`: for a result
    class, decode just these fields (the others get their defaults): a file of the package that only feeds the
    project index needs its summary, not its findings and deferred questions (most of an entry)."""
    try:
        data = json.loads(text)
        if only is None:
            return decode(data)
        return _decode_fields(data, only)
    except CorruptEntry:
        raise
    except (ValueError, TypeError, KeyError, RecursionError, UnicodeError, OverflowError) as error:
        raise CorruptEntry(str(error)) from None


def _decode_fields(data: Any, only: frozenset[str]) -> Any:
    if type(data) is not dict or len(data) != 2 or not isinstance(data.get("@"), str):
        raise CorruptEntry("untagged object")
    tag, raw = data["@"], data.get("v")
    cls = CLASSES.get(tag)
    if cls is None or not isinstance(raw, list):
        raise CorruptEntry(f"unknown tag {tag!r}")
    fields = _decoders(cls)
    if len(raw) != len(fields):
        raise CorruptEntry(f"{tag}: {len(raw)} values for {len(fields)} fields")
    values = {}
    for position, ((name, valid), item) in enumerate(zip(fields, raw)):
        if name not in only and position:  # the first field (a result's path) has no default
            continue
        value = item if type(item) in _PLAIN else decode(item)
        if not valid(value):
            raise CorruptEntry(f"{tag}.{name}: unexpected {type(value).__name__}")
        values[name] = value
    return cls(**values)


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


# Item annotations whose validator is one isinstance (as in _SCALARS): inlined into the container's.
_TEXT: dict[str, type] = {"str": str, "bytes": bytes}


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
            text = _TEXT.get(args[0].id) if isinstance(args[0], ast.Name) else None
            if text is not None:  # `frozenset[bytes]`: one isinstance per item, no call
                return lambda v: kind(v) and all(isinstance(x, text) for x in v)
            return lambda v: kind(v) and all(item(x) for x in v)
        if outer == "dict" and len(args) == 2:
            key, val = _compile(args[0]), _compile(args[1])
            return lambda v: isinstance(v, dict) and all(key(k) and val(x) for k, x in v.items())
        if outer == "tuple":
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                item = _compile(args[0])
                text = _TEXT.get(args[0].id) if isinstance(args[0], ast.Name) else None
                if text is not None:
                    return lambda v: isinstance(v, tuple) and all(isinstance(x, text) for x in v)
                return lambda v: isinstance(v, tuple) and all(item(x) for x in v)
            items = [_compile(arg) for arg in args]
            return lambda v: isinstance(v, tuple) and len(v) == len(items) and all(c(x) for c, x in zip(items, v))
    return lambda v: False
