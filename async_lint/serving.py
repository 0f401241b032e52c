"""Which coroutine functions only code that serves nothing reaches, from the `awaited-by` facts that
async_lint/checks/callers.py publishes per file (kept free of libcst: the project pass imports it)."""

from __future__ import annotations

KEY = "awaited-by"


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
