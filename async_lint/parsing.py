"""Parsing a file into the libcst tree the checks and fixes work on, without re-validating the parser's output.

Every libcst node checks its own fields when it is built (`CSTNode.__post_init__` calls `_validate`): a tree a
program builds by hand may be malformed. A tree libcst's parser built from source text is well formed by
construction, yet the checks run for each of its nodes: measured, a third of the cost of `parse_module`
(libcst's own source says as much, next to `__post_init__`). While the parser builds a tree, the checks are
switched off; nodes built anywhere else (the fixes' nodes) are still validated, and the tree is the same.
"""

from __future__ import annotations

import libcst as cst

_BASE = cst.CSTNode
# None if a libcst release validates elsewhere: then parsing is plain `libcst.parse_module`.
_VALIDATING = _BASE.__dict__.get("__post_init__")


def _unchecked(self: cst.CSTNode) -> None:
    return None


def parse_module(text: str) -> cst.Module:
    """`libcst.parse_module(text)`: the same tree, the same errors."""
    if _VALIDATING is None:
        return cst.parse_module(text)
    _BASE.__post_init__ = _unchecked  # type: ignore[method-assign]
    try:
        return cst.parse_module(text)
    finally:
        _BASE.__post_init__ = _VALIDATING  # type: ignore[method-assign]
