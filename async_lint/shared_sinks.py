"""AL107, one finding per root cause (issue 11 item 3): a blocking call that many async call sites reach through
sync helpers is reported once, at the call, naming how many async functions reach it and one example chain.

Linting some files must report what linting the whole project reports for them (item 11: pre-commit lints the
changed files, CI the folder), so the call sites are counted over the whole package even when only some files
are linted: `count_sink_sites` lints, for counting only, the package files that may hold one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable

from async_lint.config import Settings
from async_lint.finding import FileResult
from async_lint.index import Deferred, ProjectIndex
from async_lint.paths import display_path

if TYPE_CHECKING:
    from async_lint.workers import _Workers

# One blocking call reached from more async call sites than this is reported once, at the call itself.
SHARED_SINK_CALLERS = 3
_CALLER = re.compile(r"in `async def ([^`]+)`")


def sinks_of(results: list[FileResult], index: ProjectIndex) -> set[str]:
    """The sync functions with a direct blocking call that the linted files' AL107 chains end in, and those the
    linted files define (their callers may be in files that were not linted)."""
    sinks: set[str] = set()
    for r in results:
        for d in r.deferred:
            if d.kind == "blocking-helper" and (chain := index.blocking_chain(d.target)) is not None:
                sinks.add(chain[-2])
        if r.summary is not None:
            sinks.update(q for q, fn in r.summary.functions.items()
                         if fn.blocking is not None and not fn.is_async and index.blocking_chain(q) is not None)
    return sinks


def reaching(index: ProjectIndex, sinks: set[str], depth: int) -> set[str]:
    """The sinks and the sync project functions that call one of them within `depth` levels: the functions an
    AL107 chain ending in one of the sinks may pass through (a call of a class reaches its `__init__`)."""
    callers: dict[str, set[str]] = {}
    for fn in index.functions.values():
        if fn.is_async or fn.runs_once:
            continue
        for callee in fn.calls:
            target = index.function(callee)
            if target is not None and target is not fn:
                callers.setdefault(target.qualname, set()).add(fn.qualname)
    reach, level = set(sinks), set(sinks)
    for _ in range(depth):
        level = {caller for q in level for caller in callers.get(q, ())} - reach
        if not level:
            break
        reach |= level
    return reach


@dataclass
class CallWords:
    """The words a file that calls one of some project functions from another file holds, as pairs: a function
    or a class (for its `__init__`) is called by its name, imported from its module or reached through it, so the
    file also names the module or one that re-exports it; a method is called on a receiver typed by its class's
    name, a subclass's, or a module-level instance's. `pairs` maps each name to the words one of which must come
    with it; `classes` are the classes, whose subclasses elsewhere may type a receiver too; the files that define
    the functions (`homes`) may call them by name alone."""

    pairs: dict[str, set[str]] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    homes: set[str] = field(default_factory=set)

    def add(self, name: str, context: str) -> None:
        self.pairs.setdefault(name, set()).add(context)


def _module_word(index: ProjectIndex, qualname: str) -> str:
    return qualname[: -len(index.local_name(qualname)) - 1].rsplit(".", 1)[-1]


def call_words(index: ProjectIndex, qualnames: set[str]) -> CallWords:
    words = CallWords()
    by_name: dict[str, set[str]] = {}
    methods: dict[str, set[str]] = {}  # class qualname -> method names
    for qualname in qualnames:
        if (path := index.paths.get(qualname)) is not None:
            words.homes.add(path)
        parts = index.local_name(qualname).split(".")
        if len(parts) == 1:
            words.add(parts[0], _module_word(index, qualname))
        else:
            by_name.setdefault(parts[-1], set()).add(qualname)
    built: set[str] = set()  # classes whose `__init__` is one of them
    for cls in index.classes if by_name else ():
        for name, found in by_name.items():
            method = index.method(cls, name)
            if method is not None and method.qualname in found:
                words.classes.add(cls.rsplit(".", 1)[-1])
                if name == "__init__":
                    built.add(cls)
                    words.add(cls.rsplit(".", 1)[-1], _module_word(index, cls))
                else:
                    methods.setdefault(cls, set()).add(name)
                    words.add(name, cls.rsplit(".", 1)[-1])
    for module in index.modules.values():
        for var, cls in module.variables.items() if methods else ():
            for name in methods.get(index.resolve_class(cls) or "", ()):
                words.add(name, var)
        for alias, target in module.imports.items():  # re-exports: `from .pixi import add` in a package
            fn = index.function(target)
            cls = index.resolve_class(target)
            for name in methods.get(cls or "", ()):
                words.add(name, alias)
            if (fn is not None and fn.qualname in qualnames and cls is None) or cls in built:
                words.add(alias, module.module.rsplit(".", 1)[-1])
    return words


def _words(words: set[str]) -> bytes:
    return rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in sorted(words)) + rb")\b"


_TOKEN = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_FEW_WORDS = 8
_KEPT_BYTES = 64 * 1024 * 1024


class _Tokens:
    """The identifiers of each file, kept from round to round (for up to _KEPT_BYTES of text)."""

    def __init__(self) -> None:
        self.kept: dict[str, set[bytes]] = {}
        self.size = 0
        self.found: dict[tuple[str, bytes], bool] = {}  # (path, word) -> does the text hold it (a substring)

    def holds(self, path: str, data: bytes, word: bytes) -> bool:
        """`word in data`, remembered: the next round asks mostly the same context words."""
        key = (path, word)
        answer = self.found.get(key)
        if answer is None:
            answer = self.found[key] = word in data
        return answer

    def of(self, path: str, data: bytes) -> set[bytes]:
        tokens = self.kept.get(path)
        if tokens is None:
            tokens = set(_TOKEN.findall(data))
            if self.size < _KEPT_BYTES:
                self.kept[path] = tokens
                self.size += len(data)
        return tokens


class _Matcher:
    """Does a file's text hold a name of `CallWords` with one of its context words (or subclass one of its
    classes)? For a few names, plain substring scans, then a word regex for the ones found; for more, the set
    of the file's identifiers: a regex of many alternatives costs several times more than either."""

    def __init__(self, words: CallWords, tokens: "_Tokens"):
        self.tokens = tokens
        self.pairs = {name.encode(): {c.encode() for c in context} for name, context in words.pairs.items()}
        self.classes = {c.encode() for c in words.classes}
        self.base = re.compile(rb"\bclass\s+\w+\s*\([^)]*" + _words(words.classes)) if words.classes else None
        self.contexts = {c for context in self.pairs.values() for c in context}
        self.few = len(self.pairs) + len(self.classes) <= _FEW_WORDS
        self._word: dict[bytes, re.Pattern[bytes]] = {}

    def _holds(self, data: bytes, word: bytes) -> bool:
        if word not in data:
            return False
        pattern = self._word.get(word)
        if pattern is None:
            pattern = self._word[word] = re.compile(rb"\b" + re.escape(word) + rb"\b")
        return pattern.search(data) is not None

    def __call__(self, path: str, data: bytes) -> bool:
        if self.few:
            # Substring tests first, each context word once: a word regex (no literal prefix to skip ahead with)
            # costs far more, and most files hold none of the context words.
            present = {c for c in self.contexts if self.tokens.holds(path, data, c)}
            if present and any(not present.isdisjoint(context) and self._holds(data, name)
                               and any(self._holds(data, c) for c in context) for name, context in self.pairs.items()):
                return True
            return self.base is not None and any(c in data for c in self.classes) and bool(self.base.search(data))
        tokens = self.tokens.of(path, data)
        if any(not tokens.isdisjoint(self.pairs[name]) for name in tokens.intersection(self.pairs)):
            return True
        return self.base is not None and not tokens.isdisjoint(self.classes) and bool(self.base.search(data))


def count_sink_sites(results: list[FileResult], unnamed: list[str], index: ProjectIndex, settings: Settings,
                     workers: "_Workers", index_all: Callable[[list[FileResult]], None],
                     follow_helpers: Callable[[set[str]], None]) -> list[FileResult]:
    """Lint, for counting only, the files of the package that were not named (`unnamed`) that may call a
    function reaching a sink of `sinks_of`: their bytes hold the words of `CallWords` for those functions (one
    `_Matcher` per round; each round's new summaries may add callers, up to `helper-depth` levels). Returns
    their results, whose findings are not reported."""
    # Named files the pre-filter skipped hold no `async def`, but may hold a sink (reported there when the folder
    # is linted) or a helper between a sink and a caller.
    skipped = workers.map([(r.path, True, True) for r in results if r.summary is None and not r.findings])
    index_all(skipped)
    sinks = sinks_of([*results, *skipped], index)
    if not sinks:
        return []
    candidates = unnamed
    done: set[str] = set()
    asked: CallWords | None = None
    tokens = _Tokens()
    counted: list[FileResult] = []
    for _ in range(settings.helper_depth):
        words = call_words(index, reaching(index, sinks, settings.helper_depth - 1))
        if words == asked:
            break
        asked = words
        may_call = _Matcher(words, tokens)
        wanted = []
        for path in candidates:
            if path in done:
                continue
            try:
                data = workers.read(path)
            except OSError:
                done.add(path)
                continue
            if path in words.homes or may_call(path, data):
                wanted.append(path)
        if not wanted:
            break
        done.update(wanted)
        fresh = workers.map([(path, True, False) for path in wanted])
        index_all(fresh)
        counted.extend(fresh)
    # The modules the chains of the new call sites pass through, for calls of a function that reaches a sink
    # (no other call is counted); such a chain may still end in another sink, as it does in the folder run.
    reach = reaching(index, sinks, settings.helper_depth - 1)
    follow_helpers({d.target for r in counted for d in r.deferred if d.kind == "blocking-helper"
                    and (fn := index.function(d.target)) is not None and fn.qualname in reach})
    return counted


def collapse_shared_sinks(index: ProjectIndex, confirmed: dict[str, list[tuple[Deferred, str]]], linted: set[str],
                          scope: set[str], counted: list[tuple[str, Deferred]], is_test: Callable[[str], bool]
                          ) -> None:
    """AL107 findings whose chains end in the same blocking call, from more than SHARED_SINK_CALLERS async call
    sites, become one finding at that call (naming how many async functions reach it and one chain).

    `confirmed` (path -> confirmed deferred findings with their messages, of the `linted` files: the ones
    reported) is changed in place; `counted` holds the confirmed AL107 call sites of files linted only to be
    counted. The finding goes to the sink when its file is in `scope` (the files linting the whole project
    lints), else to the first call site (app code before tests, by path and position); it is kept only when that
    file is one of the `linted` ones, so a file's answer does not depend on which other files were named."""
    groups: dict[str, list[tuple[str, Deferred, list[str]]]] = {}
    sites = [(path, item) for path, items in confirmed.items() for item, _message in items]
    for path, item in [*sites, *counted]:
        if item.kind == "blocking-helper":
            chain = index.blocking_chain(item.target)
            if chain is not None:
                groups.setdefault(chain[-1], []).append((path, item, chain))
    for group in groups.values():
        if len(group) <= SHARED_SINK_CALLERS:
            continue
        dropped = {id(item) for _, item, _ in group}
        for path in {path for path, _, _ in group if path in confirmed}:
            confirmed[path] = [(i, m) for i, m in confirmed[path] if id(i) not in dropped]
        group.sort(key=lambda site: (is_test(site[0]), os.path.abspath(site[0]), site[1].locator))
        first_path, first, chain = group[0]
        sink = index.function(chain[-2])
        callers = {(path, _caller_of(item)) for path, item, _ in group}
        names = [index.local_name(q) for q in chain[:-1]] + [chain[-1].removeprefix("builtins.")]
        callee = sink.blocking[0].removeprefix("builtins.") if sink and sink.blocking else chain[-1]
        functions = f"{len(callers)} async function{'s' * (len(callers) != 1)}"
        message = (f"`{callee}()` blocks the event loop for {functions} ({len(group)} call "
                   f"sites) that reach it through sync helpers, e.g. `async def {_caller_of(first)}` "
                   f"({display_path(first_path)}) → {' → '.join(names)}")
        suggestion = ("make this code async or move the blocking call out of the helper; or run the helper "
                      "in a thread at the async call sites (`await asyncio.to_thread(...)`)")
        sink_path = index.paths.get(sink.qualname) if sink is not None else None
        if sink is not None and sink_path in scope and sink.blocking_call >= 0:
            if sink_path in linted:
                item = Deferred("blocking-sink", sink.qualname, "AL107", message, suggestion, sink.blocking_call)
                confirmed.setdefault(sink_path, []).append((item, message))
        elif first_path in linted:
            confirmed.setdefault(first_path, []).append((replace(first, fix=None, suggestion=suggestion), message))


def _caller_of(item: Deferred) -> str:
    """The async function an AL107 finding is in, as its message names it."""
    found = _CALLER.search(item.message)
    return found.group(1) if found else "?"
