"""Former home of the fix machinery, now the `async_lint.fix` package; these names stay importable from here."""

from async_lint.fix.apply import apply_fixes, line_starts, source_lines
from async_lint.fix.nodes import (add_keyword, awaited, in_generator_expression, local_name, name_taken,
                                  needs_parens, parenthesize, remove_arg, spelled, spread_call, to_thread)
from async_lint.fix.place import code_in_place, fix_info, import_anchor, import_edits, indentation, nodes_to_place
from async_lint.fix.shared import awaited_names, dependency_names, drop_async_fix
from async_lint.fix.spec import FixSpec, ImportNeed

__all__ = ["FixSpec", "ImportNeed", "add_keyword", "apply_fixes", "awaited", "awaited_names", "code_in_place",
           "dependency_names", "drop_async_fix", "fix_info", "import_anchor", "import_edits", "in_generator_expression",
           "indentation", "line_starts", "local_name", "name_taken", "needs_parens", "nodes_to_place", "parenthesize",
           "remove_arg", "source_lines", "spelled", "spread_call", "to_thread"]
