"""What the first pass and the project pass must agree on, kept free of libcst (the project pass imports it):
the byte pre-filter (which files are worth parsing), and which coroutine functions only code that serves
nothing reaches, from the `awaited-by` facts that async_lint/checks/callers.py publishes per file."""

from __future__ import annotations

import re

KEY = "awaited-by"
# Names followed by `(` (engine.called_and_imported, the project pass's caller search). A name is tried only at
# its start and never given back (the lookahead and backreference make an atomic group, which `re` has only from
# Python 3.11): the plain `[A-Za-z_][A-Za-z0-9_]*\s*\(` retried every suffix of every name not followed by `(`
# (quadratic in the name's length), and the same matches took 2.8 times as long.
CALLED = re.compile(rb"(?<![A-Za-z_])(?=([A-Za-z_][A-Za-z0-9_]*))\1\s*\(")


class Prefilter:
    """The byte pre-filter of the first pass (engine.Linter), also what the project pass searches alike: is a
    file worth parsing for the enabled rules? A rule's trigger words count only in code, not in comments and
    strings (a docstring that says "async" holds nothing AL1 reports), unless the rule says
    `triggers-anywhere = true` (AL707: the `sqlite://` of a connection URL is a string)."""

    def __init__(self, always: bool, code: tuple[bytes, ...], anywhere: tuple[bytes, ...] = ()):
        self.always = always
        self.code = code
        self.anywhere = anywhere

    def __call__(self, data: bytes) -> bool:
        if self.always or any(t in data for t in self.anywhere):
            return True
        hits = [t for t in self.code if t in data]
        if not hits:
            return False
        if _CODE_HINT.search(data):  # `async def` or `await` begins a line: parse, as every such file is
            return True
        code = code_text(data)
        return code is None or any(t in code for t in hits)


def prefilter(settings) -> Prefilter:
    """The pre-filter for the enabled rules."""
    catalog = settings.catalog()
    code: set[bytes] = set()
    anywhere: set[bytes] = set()
    always = False
    for rule in settings.enabled:
        doc = catalog.rules.get(rule)
        if doc is None or doc.family == "AL0":  # input errors are found while reading, not by checks
            continue
        if not doc.triggers:
            always = True
        (anywhere if doc.triggers_anywhere else code).update(t.encode() for t in doc.triggers)
    if "AL401" in settings.enabled:  # `extend-closeable-types`: a file naming one of them is parsed
        code.update(name.rsplit(".", 1)[-1].encode() for name in settings.extend_closeable)
    return Prefilter(always, tuple(sorted(code - anywhere)), tuple(sorted(anywhere)))


# A line that starts with `async def|with|for` or `await`: nearly every file that holds async code has one, and
# deciding "parse" needs no look at its strings (in a docstring such a line only costs the parse it cost before).
_CODE_HINT = re.compile(rb"^[ \t]*(?:async[ \t]+(?:def|with|for)|await)\b", re.MULTILINE)
# Comments and string literals. Outside an f-string's `{...}` fields the tokenizer's rules for them are regular;
# a backslash continues a string over `\n` or `\r\n`.
_NOT_CODE = re.compile(
    rb"#[^\r\n]*"
    rb"|(?P<prefix>[A-Za-z]{0,2})(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\""
    rb"|'(?:[^\\'\r\n]|\\(?:\r\n|.))*'|\"(?:[^\\\"\r\n]|\\(?:\r\n|.))*\")",
    re.DOTALL,
)
_STRING_PREFIX = re.compile(rb"[rRbBuU]{1,2}")


def code_text(data: bytes) -> bytes | None:
    """`data` with comments and plain string literals blanked out; f-strings are kept (their fields are code),
    and `name"..."` (no string prefix) is left as it is. None when it cannot tell: an f-string whose braces do
    not balance holds its own quote in a field (Python 3.12: `f"{", ".join(names)}"`), where this reading and
    Python's part ways."""
    out = []
    last = 0
    for match in _NOT_CODE.finditer(data):
        prefix = match.group("prefix")
        if prefix:
            if b"f" in prefix.lower():
                text = match.group(0)
                if text.replace(b"{{", b"").count(b"{") != text.replace(b"}}", b"").count(b"}"):
                    return None
                continue
            if not _STRING_PREFIX.fullmatch(prefix):
                continue
        out.append(data[last:match.start()])
        out.append(b" ")
        last = match.end()
    out.append(data[last:])
    return b"".join(out)


class CallGraph:
    """`awaited-by` facts (`name\0caller`) read once: who calls each name, what each caller calls. Facts only
    ever grow (summaries only add facts), so `add` takes the whole set again and reads only the new ones."""

    def __init__(self, facts: set[str] = frozenset()):
        self.callers: dict[str, set[str]] = {}
        self.callees: dict[str, set[str]] = {}
        self._read: set[str] = set()
        self.add(facts)

    def add(self, facts: set[str]) -> None:
        new = facts - self._read if self._read else facts
        if not new:
            return
        self._read |= new
        callers, callees = self.callers, self.callees
        for name, _, caller in [fact.partition("\0") for fact in new]:
            found = callers.get(name)
            if found is None:
                callers[name] = {caller}
            else:
                found.add(caller)
            found = callees.get(caller)
            if found is None:
                callees[caller] = {name}
            else:
                found.add(name)


def callers_of(graph: CallGraph, names: set[str]) -> set[str]:
    """The functions (by name) that call one of `names`."""
    out: set[str] = set()
    for name in names:
        out |= graph.callers.get(name, set())
    return out - {"!", "*"}


def cli_only_names(graph: CallGraph) -> set[str]:
    """The names that code serving nothing reaches (through calls by name) and serving code does not. Serving
    roots are callers at module or class level (`*`) and callers that nothing calls by name (entry points: a
    route, a test); a cycle of names (`prepare` awaits `prepare_environment`, which awaits `.prepare()`) is as
    reachable as its members."""
    callees, called = graph.callees, graph.callers
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
