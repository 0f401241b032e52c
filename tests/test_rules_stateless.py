"""A rule object lints every file of its worker: per-file answers must live on the file's context, never on the
rule (a cache keyed by `id(node)` on the rule answered a later file from a freed node's id: AL704 came and went
between runs of the same project)."""

from __future__ import annotations

from helpers import FIXTURES

from async_lint.catalog import load_catalog
from async_lint.config import Settings
from async_lint.engine import Linter


def test_rules_keep_no_cache_across_files():
    settings = Settings(root=str(FIXTURES), enabled=frozenset(load_catalog().rules), preview=True)
    linter = Linter(settings)
    seen: dict[tuple[int, str], int] = {}  # (rule, attribute) -> id of the container it held after a file
    for path in sorted(FIXTURES.glob("AL*.py")):
        linter.lint_path(str(path), force=True)
        for rule in linter.rules:
            for name, value in vars(rule).items():
                if not isinstance(value, (dict, set, list)) or not value:
                    continue
                key = (id(rule), name)
                # working state a check sets afresh for each file (`self.quiet = {...}`) is a new object every
                # time; the same non-empty container after two files is a cache across files
                assert seen.get(key) != id(value), f"{type(rule).__name__}.{name} is kept across files"
                seen[key] = id(value)
