"""Which coroutine functions only code that serves nothing reaches, from the `awaited-by` facts that
async_lint/checks/callers.py publishes per file (kept free of libcst: the project pass imports it)."""

from __future__ import annotations

import re

KEY = "awaited-by"
# Names followed by `(` (engine.called_and_imported, the project pass's caller search). A name is tried only at
# its start and never given back (`*+`): the plain `[A-Za-z_][A-Za-z0-9_]*\s*\(` retried every suffix of every
# name not followed by `(` (quadratic in the name's length) and the same matches took 3.3 times as long.
CALLED = re.compile(rb"(?<![A-Za-z_])([A-Za-z_][A-Za-z0-9_]*+)\s*\(")


def trigger_words(settings) -> tuple[bool, tuple[bytes, ...]]:
    """(parse every file, the words whose presence makes a file worth parsing) for the enabled rules: the byte
    pre-filter of the first pass (engine.Linter), also what the project pass searches alike."""
    catalog = settings.catalog()
    triggers: set[bytes] = set()
    always = False
    for code in settings.enabled:
        doc = catalog.rules.get(code)
        if doc is None or doc.family == "AL0":  # input errors are found while reading, not by checks
            continue
        if not doc.triggers:
            always = True
        triggers.update(t.encode() for t in doc.triggers)
    if "AL401" in settings.enabled:  # `extend-closeable-types`: a file naming one of them is parsed
        triggers.update(name.rsplit(".", 1)[-1].encode() for name in settings.extend_closeable)
    return always, tuple(sorted(triggers))


def callers_of(facts: set[str], names: set[str]) -> set[str]:
    """The functions (by name) that call one of `names`, from `awaited-by` facts."""
    out = set()
    for fact in facts:
        name, _, caller = fact.partition("\0")
        if name in names:
            out.add(caller)
    return out - {"!", "*"}


def cli_only_names(facts: set[str]) -> set[str]:
    """The names that code serving nothing reaches (through calls by name) and serving code does not. Serving
    roots are callers at module or class level (`*`) and callers that nothing calls by name (entry points: a
    route, a test); a cycle of names (`prepare` awaits `prepare_environment`, which awaits `.prepare()`) is as
    reachable as its members."""
    callees: dict[str, set[str]] = {}
    called: set[str] = set()
    for fact in facts:
        name, _, caller = fact.partition("\0")
        callees.setdefault(caller, set()).add(name)
        called.add(name)
    roots = [c for c in callees if c != "!" and (c == "*" or c not in called)]
    serving = _reach(roots, callees)
    return _reach(["!"], callees) - serving - {"!", "*"}


def _reach(roots: list[str], callees: dict[str, set[str]]) -> set[str]:
    seen = set(roots)
    stack = list(roots)
    while stack:
        for name in callees.get(stack.pop(), ()):
            if name not in seen:
                seen.add(name)
                stack.append(name)
    return seen
