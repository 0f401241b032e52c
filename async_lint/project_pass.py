"""The project pass: parse what the project index still needs, then confirm or drop the deferred findings.

Phase 1b parses, on demand, the files the index still needs: files that call a project coroutine by name but
contain no trigger word, modules reached by helper chains (AL107), and files that may hold a fact a deferred
finding depends on. Phase 2 confirms or drops the deferred findings and places the confirmed ones.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from async_lint.config import Settings
from async_lint.finding import FileResult
from async_lint.index import ProjectIndex, package_root
from async_lint.serving import KEY as AWAITED_BY, CallGraph, callers_of, cli_only_names, prefilter
from async_lint.shared_sinks import collapse_shared_sinks, count_sink_sites

if TYPE_CHECKING:
    from async_lint.workers import _Workers


def _module_of(qualname: str, modules: dict[str, str]) -> str | None:
    parts = qualname.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        if name in modules:
            return name
    return None


def confirmed_of(result: FileResult, index: ProjectIndex) -> list[tuple]:
    """The file's deferred findings the index confirms, with their messages; the questions are then spent."""
    confirmed = [(item, message) for item in result.deferred if (message := index.resolve(item)) is not None]
    result.deferred = []
    return confirmed


def drop_fixes_of_awaited(findings: list, index: ProjectIndex) -> None:
    """A function something in the project awaits must stay `async def`: no fix that drops `async`."""
    for finding in findings:
        if finding.fix is not None and finding.fix.unless_awaited in index.awaited:
            finding.fix = None


def blocking_names(settings: Settings):
    """For the index's preview attribute chains: a library call's catalog name when it blocks with a code AL107
    follows (the selected and the default-on ones), else None."""
    catalog = settings.catalog()
    codes = settings.enabled | {c for c, doc in catalog.rules.items() if doc.default}

    def blocking_of(callee: str) -> str | None:
        entry = catalog.blocking.get(callee)
        return entry.name if entry is not None and entry.code in codes else None

    return blocking_of


def project_pass(results: list[FileResult], workers: "_Workers", modules: dict[str, str], settings: Settings
                  ) -> None:
    by_path = {r.path: i for i, r in enumerate(results)}
    summaries = {r.summary.module: r.summary for r in results if r.summary is not None}
    index = ProjectIndex(list(summaries.values()), settings.helper_depth, blocking_names(settings), settings.preview)

    def index_all(fresh_results: list[FileResult]) -> None:
        for fresh in fresh_results:
            if fresh.summary is not None:
                summaries[fresh.summary.module] = fresh.summary
                index.add(fresh.summary)

    named = set(by_path)
    # Files of the package that were not named are parsed only when something needs them. Linting one file
    # (pre-commit) must report what linting the folder (CI) reports for it: whatever a step below may need from
    # the other files is parsed in both modes alike.
    extra = {path: name for name, path in modules.items() if path not in named}
    # Every file of the package that was not named, also one whose module name another file has (two `export.py`
    # in folders without `__init__.py`): the folder run lints it.
    unnamed = [path for path in workers.module_of_path if path not in named]

    # 1b-1: files that name a project coroutine but were skipped by the byte pre-filter (AL201 in sync code).
    if settings.enabled & {"AL201", "AL206"}:
        # The modules such files import, when they were not named (a named module that defines a coroutine
        # holds the trigger word `async` and was parsed).
        imported_words = {word for r in results if not r.parsed and r.words is not None for word in r.words[1]}
        wanted_extra = [path for path, name in extra.items()
                        if name not in summaries and name.rsplit(".", 1)[-1].encode() in imported_words]
        index_all(workers.map([(path, True, True) for path in wanted_extra]))
        # A module-level coroutine function called by name, whose module an import line names
        # (`from .db import save_order` ... `save_order(order)`).
        wanted_names: dict[bytes, set[bytes]] = {}
        for summary in summaries.values():
            for name in summary.coroutine_names:
                wanted_names.setdefault(name.encode(), set()).add(summary.module.rsplit(".", 1)[-1].encode())
        again = []
        for r in results:
            if r.parsed or r.words is None or not wanted_names:
                continue
            called, imported = r.words
            if any(not wanted_names[name].isdisjoint(imported) for name in called.intersection(wanted_names)):
                again.append((r.path, True, False))
        relinted = workers.map(again)
        for fresh in relinted:
            results[by_path[fresh.path]] = fresh
        index_all(relinted)

    # 1b-2: modules that deferred questions name but nobody parsed yet (files of the package that were not
    # linted, or skipped by the pre-filter), and for AL107 the modules reached by helper chains.
    attempted: set[str] = set(summaries)
    asked = {d.target for r in results for d in r.deferred if d.kind in ("coroutine", "callable")}
    # preview: the coroutine's and the receiving function's modules; the class with a twin
    asked |= {t for r in results for d in r.deferred if d.kind in ("coroutine-arg", "sync-twin")
              for t in d.target.split("\0")[:2] if "." in t}
    wanted_modules = {m: modules[m] for t in asked if (m := _module_of(t, modules)) and m not in attempted}
    if wanted_modules:
        index_all(workers.map([(path, True, True) for path in wanted_modules.values()]))
        attempted.update(wanted_modules)
    named_words: set[str] = set()

    def summarized(path: str) -> bool:
        """Parsed for its summary by a step before (its result stays the first pass's): nothing new to find."""
        found = summaries.get(workers.module_of_path.get(path, ""))
        return found is not None and found.path == path

    def parse_naming(classes: list[str]) -> None:
        """Preview: parse the files not parsed yet whose bytes name one of these classes (by its last name)."""
        words = {c.rsplit(".", 1)[-1] for c in classes} - named_words
        if not words:
            return
        named_words.update(words)
        pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in sorted(words)) + rb")\b")
        unparsed = [r.path for r in results if r.summary is None and not summarized(r.path)]
        unparsed += [path for path, name in extra.items() if name not in attempted and name not in summaries]
        wanted_files = _mentioning(workers, unparsed, pattern)
        fresh = workers.map([(path, True, True) for path in wanted_files])
        index_all(fresh)
        attempted.update(f.summary.module for f in fresh if f.summary is not None)

    def overrides_of(target: str, fn) -> set[str]:
        """An abstract method's overrides below the class asked about; the files that name the class (or its
        subclasses) are parsed first, as a subclass must name its base."""
        owner = index.resolve_class(target.rpartition(".")[0]) or fn.qualname.rpartition(".")[0]
        for _ in range(3):
            parse_naming([owner, *index.subclasses(owner)])
        method = fn.qualname.rpartition(".")[2]
        return {f"{c}.{method}" for c in index.subclasses(owner)}

    def follow_helpers(frontier: set[str]) -> None:
        """Parse the modules that AL107 helper chains starting at `frontier` pass through."""
        seen: set[str] = set()
        for _ in range(settings.helper_depth + 1):
            wanted: dict[str, str] = {}
            next_frontier: set[str] = set()
            for target in frontier - seen:
                seen.add(target)
                fn = index.function(target)
                if fn is not None:
                    if not fn.is_async and not fn.runs_once:  # what it returns tells a dispatch function
                        next_frontier.update(fn.calls if fn.blocking is None else fn.returned)
                    if fn.abstract and not fn.is_async and settings.preview:  # the overrides, in files naming it
                        next_frontier.update(overrides_of(target, fn))
                    if fn.attr_calls:  # preview: what the constructor's callers pass, in files naming the class
                        owner = fn.qualname.rpartition(".")[0]
                        parse_naming([owner, *index.subclasses(owner)])
                    continue
                module = _module_of(target, modules)
                if module is not None and module not in attempted:
                    wanted[module] = modules[module]
                    next_frontier.add(target)  # ask again once its module is known
            if not wanted and not next_frontier - seen:
                break
            index_all(workers.map([(path, True, True) for path in wanted.values()]))
            attempted.update(wanted)  # parsed, or failed to: never asked for again
            seen -= {t for t in next_frontier if _module_of(t, modules) in wanted}
            frontier = next_frontier

    counted: list[FileResult] = []  # linted only to count AL107 call sites (see below): nothing is reported
    if "AL107" in settings.enabled:
        follow_helpers({d.target for r in results for d in r.deferred if d.kind == "blocking-helper"})
        # preview: a stored attribute called directly in an async method; the constructor's callers type it
        stored = {d.target.split("\0", 1)[0] for r in results for d in r.deferred if d.kind == "attr-blocking"}
        if stored:
            parse_naming(sorted({c for owner in stored for c in (owner, *index.subclasses(owner))}))
        if unnamed:
            counted = count_sink_sites(results, unnamed, index, settings, workers, index_all, follow_helpers)
            attempted.update(extra[fresh.path] for fresh in counted if fresh.path in extra)

    # 1b-4: files that may hold a fact a deferred finding or a fix depends on (AL401: a close of the same
    # attribute anywhere, a per-call build of the class; fixes that drop `async`: an await of the function
    # anywhere), not parsed yet: named files the byte pre-filter skipped, and files of the package that were
    # not named. Only files whose bytes hold the word are parsed, for their summary. A fact already published
    # settles its question for good (summaries only add facts), so only open questions are searched: first the
    # facts a finding needs to stand (specific class names), then the facts that would drop it.
    def search(words: set[str]) -> None:
        words.discard("")
        if not words:
            return
        pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in sorted(words)) + rb")\b")
        unparsed = [r.path for r in results if r.summary is None and r.path not in searched
                    and not summarized(r.path)]
        unparsed += [path for path, name in extra.items()
                     if name not in attempted and name not in summaries and path not in searched]
        wanted_files = _mentioning(workers, unparsed, pattern)
        searched.update(wanted_files)
        index_all(workers.map([(path, True, True) for path in wanted_files]))

    searched: set[str] = set()
    questions = [_conditions(d.target) for r in results for d in r.deferred if d.kind == "unless-shared"]
    search({value for conditions in questions if not _dropped(conditions, index)
            for required, key, value in conditions if required and value not in index.shared(key)})
    words = {value for conditions in questions if _would_confirm(conditions, index)
             for required, key, value in conditions if not required}
    words |= {f.fix.unless_awaited for r in results for f in r.findings
              if f.fix is not None and f.fix.unless_awaited and f.fix.unless_awaited not in index.awaited}
    search(words)

    passes = prefilter(settings)

    called_in: dict[str, frozenset[str]] = {}  # package file not named -> the names it calls (pre-filtered)

    def search_callers(names: set[str]) -> None:
        """The package files not named (a one-file run) that a folder run would parse (the pre-filter's words)
        and that call one of `names`. A folder run linted every such file already: there are none. Each file
        is read once, whatever the number of rounds."""
        if not names or not extra:
            return
        if not called_in:
            for path, called in workers.called_names(list(extra), passes).items():
                called_in[path] = frozenset(w.decode() for w in called)
        wanted_files = [path for path, name in extra.items()
                        if name not in attempted and name not in summaries and path not in searched
                        and not names.isdisjoint(called_in.get(path, ()))]
        searched.update(wanted_files)
        index_all(workers.map([(path, True, True) for path in wanted_files]))

    _drop_cli_only(results, counted, summaries, index, search_callers, settings.source_roots)

    # 2: confirm the deferred findings; only files with confirmed ones are read again, to place them.
    confirmed_by_path: dict[str, list] = {}
    for r in results:
        drop_fixes_of_awaited(r.findings, index)
        confirmed = confirmed_of(r, index)
        if confirmed:
            confirmed_by_path[r.path] = confirmed
    # AL107: one finding per sink reached from many call sites, counting the sites of the files linted to count
    counted_sites = [(fresh.path, item) for fresh in counted for item, _message in confirmed_of(fresh, index)]
    linted = {r.path for r in results}
    collapse_shared_sinks(index, confirmed_by_path, linted, linted | set(unnamed), counted_sites,
                          settings.is_test_file)
    to_place: list[tuple[str, list]] = [(path, items) for path, items in confirmed_by_path.items() if items]
    for placed in workers.place(to_place):
        r = results[by_path[placed.path]]
        drop_fixes_of_awaited(placed.findings, index)
        r.findings.extend(placed.findings)
        r.internal_errors += placed.internal_errors
        for code, count in placed.suppressed.items():
            r.suppressed[code] = r.suppressed.get(code, 0) + count
        r.silenced.extend(placed.silenced)
        r.findings.sort(key=lambda f: f.sort_key())


def _drop_cli_only(results: list[FileResult], counted: list[FileResult], summaries: dict, index: ProjectIndex,
                   search_callers, source_roots: tuple[str, ...]) -> None:
    """1b-5: AL101-AL107 in an `async def` that only code serving nothing awaits (checks/callers.py). The files
    that call such a function (or, in turn, its callers) and were not parsed yet may hold another caller: in a
    one-file run they are parsed first, as the folder run parsed them. Callers count within the finding's
    top-level package (a file outside any package: within the file), the files that linting one file indexes
    too, so pre-commit and CI agree."""
    asked = {f.unless_cli_only for r in results for f in r.findings if f.unless_cli_only}
    asked |= {d.unless_cli_only for r in (*results, *counted) for d in r.deferred if d.unless_cli_only}
    if not asked:
        return
    names = set(asked)
    graph = CallGraph()
    for _ in range(8):  # callers of callers, as deep as the folder run's facts reach
        search_callers(names)
        graph.add(index.shared(AWAITED_BY))
        more = callers_of(graph, names) - names
        if not more:
            break
        names |= more
    asking = [r for r in (*results, *counted)
              if any(f.unless_cli_only for f in r.findings) or any(d.unless_cli_only for d in r.deferred)]
    roots = {r.path: package_root(r.path, source_roots) or r.path for r in asking}
    facts: dict[str, set[str]] = {root: set() for root in roots.values()}
    for summary in summaries.values():
        found = summary.shared.get(AWAITED_BY)
        if found:
            root = package_root(summary.path, source_roots) or summary.path
            if root in facts:
                facts[root].update(found)
    cli_only: dict[str, set[str]] = {}
    for r in asking:
        root = roots[r.path]
        if root not in cli_only:
            whole = facts[root] == index.shared(AWAITED_BY)  # one package: the graph of the rounds above
            cli_only[root] = cli_only_names(graph if whole else CallGraph(facts[root])) & asked
        names = cli_only[root]
        if names:
            r.findings = [f for f in r.findings if f.unless_cli_only not in names]
            r.deferred = [d for d in r.deferred if d.unless_cli_only not in names]


def _conditions(target: str) -> list[tuple[bool, str, str]]:
    """(required, key, value) of an "unless-shared" question (see ProjectIndex.resolve)."""
    out = []
    for line in target.split("\n"):
        key, _, value = line.removeprefix("+").partition("\0")
        out.append((line.startswith("+"), key, value))
    return out


def _dropped(conditions: list[tuple[bool, str, str]], index: ProjectIndex) -> bool:
    """A fact that drops the finding is published: no more parsing can bring it back."""
    return any(not required and value in index.shared(key) for required, key, value in conditions)


def _would_confirm(conditions: list[tuple[bool, str, str]], index: ProjectIndex) -> bool:
    """Would the index confirm the finding now: every fact it needs published, none that drops it?"""
    return all((value in index.shared(key)) == required for required, key, value in conditions)


def _mentioning(workers, paths: list, pattern: re.Pattern) -> list:
    """The paths whose bytes match `pattern` (files that name a class the pass follows); unreadable ones skipped."""
    found = []
    for path in paths:
        try:
            if pattern.search(workers.read(path)):
                found.append(path)
        except OSError:
            continue
    return found
