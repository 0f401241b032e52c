"""Everything a check may ask about the file it is checking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from async_lint.catalog import Catalog
from async_lint.resolve import Resolver
from async_lint.walker import Facts, Scope


@dataclass
class FileContext:
    path: str
    module: cst.Module
    facts: Facts
    resolver: Resolver
    catalog: Catalog
    settings: Any = None  # async_lint.config.Settings of the run (default-timeout, helper-depth, ...)
    project: Any = None  # async_lint.index.ProjectIndex when the run has one
    local_summary: dict[str, set[str]] | None = None  # this file's merged Rule.summarize() output

    def shared(self, key: str) -> set[str]:
        """Project-wide facts published under `key` by Rule.summarize(); this file's own when no project."""
        own = (self.local_summary or {}).get(key, set())
        if self.project is not None:
            return own | self.project.shared(key)
        return own

    def callee(self, call: cst.Call, scope: Scope) -> str | None:
        return self.resolver.callee(call.func, scope)

    def type_of(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        return self.resolver.type_of(node, scope)

    @property
    def is_test_file(self) -> bool:
        """Test code by the run's `test-files` patterns (pytest's conventions by default)."""
        if self.settings is not None:
            return self.settings.is_test_file(self.path)
        from async_lint.config import is_test_path

        return is_test_path(self.path, None)
