"""Fixes, from what a rule proposes to the edited text.

- `spec`: `FixSpec`, a rule's proposal (libcst node replacements, insertions, the imports they need);
- `nodes`: builders rules use to make the new nodes (`await`, `asyncio.to_thread`, a keyword added or removed,
  a qualified name spelled as the file imports it);
- `place`: a `FixSpec` turned into text edits (`fix_info`): each new node's code indented where the old one
  stands, plus the import statements;
- `apply`: the edits applied to the original text, skipping overlaps (plain text surgery, ruff's shape: every
  byte outside an edited range stays as it was);
- `shared`: fixes more than one rule offers.

`async_lint.fixer` drives rounds of fixes over files (`--fix`, `--diff`).
"""
