"""Linting one file: read, pre-filter, parse once, collect facts, run every enabled check, place and filter findings."""

from __future__ import annotations

import ast
import os
import re
import sys
import traceback
from pathlib import Path

import libcst as cst

from async_lint.catalog import Catalog, suppressed_by_peer
from async_lint.checks import DEFERRED_FIXES, Rule, all_rules
from async_lint.config import Settings
from async_lint.context import FileContext
from async_lint.finding import FileResult, Finding, Report, error_result
from async_lint.fix.apply import source_lines
from async_lint.fix.place import fix_info, nodes_to_place
from async_lint.index import Deferred, module_name_for
from async_lint.parsing import parse_module
from async_lint.positions import Span, spans
from async_lint.resolve import Resolver
from async_lint.source import (SKIP_FILE, SourceError, decode, is_suppressed, noqa_codes, read_file, read_problem,
                               syntax_error)
from async_lint.serving import CALLED, prefilter
from async_lint.summarize import settle_lines, summarize
from async_lint.walker import Facts, collect

STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins"}


class Linter:
    """The checks and catalog of one run, built once per process and reused for every file."""

    def __init__(self, settings: Settings, project_packages: frozenset[str] = frozenset()):
        self.settings = settings
        # Top-level names of the project's packages and modules: calls into them may be answered by the index.
        self.project_packages = project_packages
        self.overlay: dict[str, bytes] = {}  # path -> content with fixes applied but not yet written
        # False for hosts that do their own `# noqa` handling (the flake8 plugin).
        self.respect_noqa = True
        # `# noqa: ASYNC210` (another linter's code for the same pitfall) silences AL102; the flake8 plugin keeps
        # this on, since flake8 knows nothing of it (off with flake8's --disable-noqa).
        self.respect_peer_noqa = True
        self.catalog: Catalog = settings.catalog()
        self.rules: list[Rule] = [
            cls(settings.enabled) for cls in all_rules() if settings.enabled.intersection(cls.codes)
        ]
        self.may_trigger = prefilter(settings)  # data -> worth parsing?
        # A project folder without __init__.py may hold `redis.py`: library names stay library names, unless the
        # project defines that package itself (linting airflow, langchain_core or llama_index: see `is_project`).
        self.library_roots = self.catalog.library_roots | STDLIB
        self._own_packages: dict[str, bool] = {}
        self.needs_index = self.catalog.needs_index(settings.enabled)
        # AL107 follows blocking calls of the selected codes and of the default ones (so `--select AL107` alone
        # still follows `time.sleep()`), not of an opt-in code left off (AL110: single-file `open()`).
        self.sink_codes = frozenset(settings.enabled) | {c for c, doc in self.catalog.rules.items() if doc.default}

    def is_project(self, qualified: str) -> bool:
        root = qualified.split(".", 1)[0]
        if root not in self.project_packages:
            return False
        return root not in self.library_roots or self.defines_package(root)

    def defines_package(self, root: str) -> bool:
        """Is `root` a regular package (a folder with `__init__.py`) right in the project root or a source root?
        Then the project is that library (a checkout of airflow or langchain_core), not an app shadowing it."""
        known = self._own_packages.get(root)
        if known is None:
            known = root not in STDLIB and any(
                os.path.isfile(os.path.join(base, root, "__init__.py")) for base in self.settings.source_roots)
            self._own_packages[root] = known
        return known

    # ------------------------------------------------------------------
    def ignored_codes(self, path: str) -> frozenset[str]:
        """Enabled codes not reported in this file: its per-file-ignores, and in test files those outside
        `test-select`."""
        return self.settings.ignored_in(path)

    def read(self, path: str) -> bytes:
        """A file's bytes: from the overlay of not-yet-written fixes, else from disk."""
        if path in self.overlay:
            return self.overlay[path]
        return read_file(path)

    def lint_path(self, path: str, force: bool = False, summary_only: bool = False) -> FileResult:
        if path in self.overlay:
            return self.lint_bytes(path, self.overlay[path], force=force, summary_only=summary_only)
        try:
            p = Path(path)
            size = p.stat().st_size
            limit = self.settings.max_file_size * 1024 * 1024
            if size > limit:
                # Generated code (protobuf, tables): libcst needs ~500 MB of memory per MB of source.
                result = FileResult(path)
                result.warnings.append(
                    f"skipped: {size / (1024 * 1024):.1f} MB is over max-file-size ({self.settings.max_file_size:g} "
                    "MB); raise `max-file-size` in [tool.async-lint] to lint it"
                )
                return result
            data = read_file(path)  # regular files only, never blocks (FIFO)
        except OSError as exc:
            return error_result(path, "AL001", read_problem(path, exc))
        return self.lint_bytes(path, data, force=force, summary_only=summary_only)

    def lint_bytes(self, path: str, data: bytes, force: bool = False, summary_only: bool = False) -> FileResult:
        """Lint one file's bytes. `force` parses even when no trigger matches (the project index asked for it);
        `summary_only` computes the index entry and no findings (a file of the package that was not named)."""
        result = FileResult(path)
        if not data.strip() or SKIP_FILE in data:
            return result
        # Decoding is cheap next to parsing: a binary or mis-encoded file is reported even when its bytes
        # hold no trigger word.
        try:
            source = decode(data)
        except SourceError as exc:
            return error_result(path, "AL001", str(exc), exc.row, exc.column)
        if not (force or summary_only or self.may_trigger(data)):
            if (error := syntax_error(source.text, path)) is not None:  # no rule to run, but it must parse
                return error_result(path, "AL001", str(error), error.row, error.column, frame=True)
            if self.needs_index:
                result.words = called_and_imported(data)
            return result
        try:
            module = parse_module(source.text)
        except cst.ParserSyntaxError as exc:
            return syntax_error_result(path, source.text, exc)
        except (RecursionError, MemoryError) as exc:
            return error_result(path, "AL001", f"cannot parse: {type(exc).__name__} (too deeply nested?)")
        result.parsed = True
        facts = collect(module)
        ctx = self.context(path, facts)
        ctx.local_summary = self.summarize(ctx, result)
        if self.needs_index:
            resolver = ctx.resolver
            result.summary = summarize(facts, resolver, self.catalog, path, resolver.module_name,
                                       resolver.is_package, self.is_project, self.sink_codes,
                                       preview=self.settings.preview)
            result.summary.shared = ctx.local_summary
        if summary_only:
            self.settle(result, facts, {})
            return result
        reports: list[Report] = []
        ignored = self.ignored_codes(path)
        for rule in self.rules:
            if ignored and ignored.issuperset(self.settings.enabled.intersection(rule.codes)):
                continue  # none of its codes is reported here (a test file, per-file-ignores)
            try:
                reports.extend(rule.check(ctx))
            except Exception as exc:  # one broken check must not stop the run
                self.internal_error(result, rule, exc)
        immediate = [r for r in reports if r.defer is None]
        if len(immediate) < len(reports):
            locators = {id(call): i for i, (call, _) in enumerate(facts.calls)}
            for report in reports:
                if report.defer is not None and report.code in self.settings.enabled and report.code not in ignored:
                    kind, target = report.defer
                    result.deferred.append(Deferred(kind, target, report.code, report.message, report.suggestion,
                                                    locators[id(report.node)], report.deferred_fix,
                                                    report.unless_cli_only))
        positions = self.place(result, facts, source.text, immediate) if immediate else {}
        self.settle(result, facts, positions)
        return result

    def settle(self, result: FileResult, facts: Facts, positions: dict[int, Span]) -> None:
        """Fill the summary's blocking-call lines, reusing positions already computed for the findings."""
        summary = result.summary
        if summary is None or not summary.pending_lines:
            return
        missing = [item[1] for item in summary.pending_lines if id(item[1]) not in positions]
        if missing:
            positions = {**positions, **spans(facts.module, missing)}
        settle_lines(summary, positions)

    def place_confirmed(self, path: str, confirmed: list[tuple[Deferred, str]]) -> FileResult:
        """Findings for deferred reports the project index confirmed: the file is parsed again to place them."""
        result = FileResult(path)
        try:
            source = decode(self.read(path))
            module = parse_module(source.text)
        except (OSError, SourceError, cst.ParserSyntaxError):
            return result  # the file changed under us; the next run will see it
        facts = collect(module)
        reports = [
            Report(item.code, facts.calls[item.locator][0], message, item.suggestion)
            for item, message in confirmed
            if item.locator < len(facts.calls)
        ]
        if any(item.fix for item, _ in confirmed):
            ctx = self.context(path, facts)
            for report, (item, _) in zip(reports, confirmed):
                if item.fix:  # "name" or "name:argument" (the index may name what it found: a twin)
                    name, _, argument = item.fix.partition(":")
                    extra = (argument,) if argument else ()
                    report.fix = DEFERRED_FIXES[name](report.node, facts.calls[item.locator][1], ctx, *extra)
        self.place(result, facts, source.text, reports)
        return result

    def context(self, path: str, facts: Facts) -> FileContext:
        """What the checks of one file see: its facts, a resolver that knows its module, the catalog."""
        module_name, is_package = module_name_for(Path(path), self.settings.source_roots)
        resolver = Resolver(facts, self.catalog, module_name, project_lookup=self.project_type, is_package=is_package)
        return FileContext(path, facts.module, facts, resolver, self.catalog, settings=self.settings)

    def project_type(self, qualified: str) -> str | None:
        """A project class instantiated here is typed by its qualified name; the index knows its methods."""
        return qualified if self.is_project(qualified) else None

    def summarize(self, ctx: FileContext, result: FileResult) -> dict[str, set[str]]:
        merged: dict[str, set[str]] = {}
        for rule in self.rules:
            try:
                for key, values in rule.summarize(ctx).items():
                    merged.setdefault(key, set()).update(values)
            except Exception as exc:
                self.internal_error(result, rule, exc)
        return merged

    def internal_error(self, result: FileResult, rule: Rule, exc: Exception) -> None:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result.findings.append(
            Finding("AL002", f"internal error in {type(rule).__name__} ({'/'.join(rule.codes)}): {detail}",
                    result.path, 1, 1, 1, 1, suggestion=traceback.format_exc(), show_frame=False)
        )
        result.internal_errors += 1

    def silenced(self, lines: list[str], row: int, code: str) -> bool:
        """Does a `# noqa` on the row silence `code`: a bare one, one naming the code (or a prefix of it), or one
        naming a peer linter's code for the same pitfall (catalog.PEER_CODES)?"""
        if self.respect_noqa and is_suppressed(lines, row, code):
            return True
        if not self.respect_peer_noqa or not 0 < row <= len(lines):
            return False
        return suppressed_by_peer(code, noqa_codes(lines[row - 1]) or ())

    def place(self, result: FileResult, facts: Facts, text: str, reports: list[Report]) -> dict[int, Span]:
        """Turn reports into findings: positions (computed only now), fixes, per-file ignores, noqa. Returns the
        positions, which include the summary's pending blocking calls (one codegen pass per file)."""
        module = facts.module
        nodes = [report.node for report in reports]
        if result.summary is not None:
            nodes.extend(item[1] for item in result.summary.pending_lines)
        for report in reports:
            if report.fix is not None:
                nodes.extend(nodes_to_place(module, report.fix))
        positions = spans(module, nodes)
        ignored = self.ignored_codes(result.path)
        lines = source_lines(text)
        newline = module.default_newline
        seen: set[tuple[str, int, int]] = set()
        for report in reports:
            if report.code in ignored or report.code not in self.settings.enabled:
                continue
            row, column, end_row, end_column = positions[id(report.node)]
            key = (report.code, row, column)
            if key in seen:
                continue
            seen.add(key)
            suppressed = self.silenced(lines, row, report.code)
            finding = Finding(
                report.code,
                report.message,
                result.path,
                row,
                column + 1,
                end_row,
                end_column + 1,
                suggestion=report.suggestion,
                noqa_row=row,
                unless_cli_only=report.unless_cli_only,
            )
            if report.fix is not None:
                try:
                    finding.fix = fix_info(report.fix, facts, positions, newline)
                except KeyError:  # a node the fix needs has no position: offer no fix rather than a wrong one
                    finding.fix = None
            if suppressed:
                result.suppressed[report.code] = result.suppressed.get(report.code, 0) + 1
                result.silenced.append((row, report.code))  # for AL003 (unused-noqa)
            else:
                result.findings.append(finding)
        result.findings.sort(key=Finding.sort_key)
        return positions


_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from|import)[ \t][^\n]*", re.MULTILINE)


def called_and_imported(data: bytes) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """Names followed by `(` and the words of import lines: enough to tell whether a file that was not parsed
    may call a project coroutine (`from .db import save_order` ... `save_order(order)`)."""
    imported = frozenset(w for line in _IMPORT_LINE.findall(data) for w in _WORD.findall(line))
    return frozenset(CALLED.findall(data)), imported


def syntax_error_result(path: str, text: str, exc: cst.ParserSyntaxError) -> FileResult:
    """libcst's error positions are rough; Python's own parser names the line and the problem precisely."""
    try:
        ast.parse(text)
    except SyntaxError as syntax:
        row = syntax.lineno or 1
        column = syntax.offset or 1
        return error_result(path, "AL001", f"syntax error: {syntax.msg}", row, column, frame=True)
    except (ValueError, RecursionError, MemoryError):
        pass
    detail = exc.message.removeprefix("parser error: ")
    return error_result(path, "AL001", f"libcst cannot parse this file: {detail}", exc.raw_line, 1, frame=True)
