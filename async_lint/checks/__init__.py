"""The checks: small classes that query a file's facts and return reports.

Every module in this package is imported once; each `Rule` subclass it defines registers the codes it checks.
A check declares the codes it can report; the engine instantiates it only when one of them is enabled.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable

if TYPE_CHECKING:
    from async_lint.context import FileContext
    from async_lint.finding import Report

REGISTRY: list[type["Rule"]] = []
# Fixes of deferred findings are rebuilt when the finding is confirmed: name -> builder(node, scope, ctx).
DEFERRED_FIXES: dict[str, Callable[..., Any]] = {}


class Rule:
    codes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.codes:
            REGISTRY.append(cls)

    def __init__(self, enabled: frozenset[str]):
        self.enabled = enabled

    def check(self, ctx: "FileContext") -> Iterable["Report"]:
        raise NotImplementedError

    def summarize(self, ctx: "FileContext") -> dict[str, set[str]]:
        """Facts about this file that checks of *other* files may need (e.g. which clients are closed).

        The engine merges every file's summary into the project index; `ctx.shared(key)` returns the union
        over the project (or over this file alone when linting a single file). Keep values small strings.
        """
        return {}


_loaded = False


def all_rules() -> list[type[Rule]]:
    global _loaded
    if not _loaded:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return REGISTRY
