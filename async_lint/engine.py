"""Linting one file: read, pre-filter, parse once, collect facts, run every enabled check, place and filter findings."""

from __future__ import annotations

import ast
import fnmatch
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from async_lint.catalog import Catalog
from async_lint.checks import Rule, all_rules
from async_lint.config import Settings
from async_lint.context import FileContext
from async_lint.finding import Finding, Report
from async_lint.resolve import Resolver
from async_lint.source import SKIP_FILE, SourceError, decode, is_suppressed
from async_lint.walker import collect

MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)  # code -> findings silenced by noqa
    parsed: bool = False
    internal_errors: int = 0


class Linter:
    """The checks and catalog of one run, built once per process and reused for every file."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.catalog: Catalog = settings.catalog()
        self.rules: list[Rule] = [
            cls(settings.enabled) for cls in all_rules() if settings.enabled.intersection(cls.codes)
        ]
        triggers: set[bytes] = set()
        self.always_parse = False
        for code in settings.enabled:
            doc = self.catalog.rules.get(code)
            if doc is None or doc.family == "AL0":  # input errors are found while reading, not by checks
                continue
            if not doc.triggers:
                self.always_parse = True
            triggers.update(t.encode() for t in doc.triggers)
        self.triggers = tuple(sorted(triggers))

    # ------------------------------------------------------------------
    def ignored_codes(self, path: str) -> frozenset[str]:
        if not self.settings.per_file_ignores:
            return frozenset()
        try:
            rel = Path(path).resolve().relative_to(self.settings.root).as_posix()
        except ValueError:
            rel = Path(path).as_posix()
        codes: set[str] = set()
        name = rel.rsplit("/", 1)[-1]
        for pattern, ignored in self.settings.per_file_ignores:
            if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern):
                codes |= ignored
        return frozenset(codes)

    def may_trigger(self, data: bytes) -> bool:
        return self.always_parse or any(t in data for t in self.triggers)

    def lint_path(self, path: str) -> FileResult:
        try:
            p = Path(path)
            if p.is_symlink() and not p.exists():
                return error_result(path, "AL001", "broken symlink: the file it points to does not exist")
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:
                return error_result(
                    path, "AL001", f"file is {size // (1024 * 1024)} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit; skipped"
                )
            data = p.read_bytes()
        except OSError as exc:
            return error_result(path, "AL001", f"cannot read file: {exc.strerror or exc}")
        return self.lint_bytes(path, data)

    def lint_bytes(self, path: str, data: bytes, module_name: str = "", respect_noqa: bool = True) -> FileResult:
        """Lint one file's bytes. `respect_noqa=False` keeps findings that `# noqa` comments would silence, for
        hosts that do their own noqa handling (the flake8 plugin)."""
        result = FileResult(path)
        if not data.strip() or SKIP_FILE in data or not self.may_trigger(data):
            return result
        try:
            source = decode(data)
        except SourceError as exc:
            return error_result(path, "AL001", str(exc), exc.row, exc.column)
        try:
            module = cst.parse_module(source.text)
        except cst.ParserSyntaxError as exc:
            return syntax_error_result(path, source.text, exc)
        except (RecursionError, MemoryError) as exc:
            return error_result(path, "AL001", f"cannot parse: {type(exc).__name__} (too deeply nested?)")
        result.parsed = True
        facts = collect(module)
        ctx = FileContext(
            path, module, facts, Resolver(facts, self.catalog, module_name), self.catalog, settings=self.settings
        )
        ctx.local_summary = self.summarize(ctx, result)
        reports: list[Report] = []
        for rule in self.rules:
            try:
                reports.extend(rule.check(ctx))
            except Exception as exc:  # one broken check must not stop the run
                self.internal_error(result, rule, exc)
        if reports:
            self.place(result, module, source.text, reports, respect_noqa)
        return result

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

    def place(
        self, result: FileResult, module: cst.Module, text: str, reports: list[Report], respect_noqa: bool = True
    ) -> None:
        """Turn reports into findings: positions (computed only now), per-file ignores, noqa."""
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        ignored = self.ignored_codes(result.path)
        lines = text.splitlines()
        seen: set[tuple[str, int, int]] = set()
        for report in reports:
            if report.code in ignored or report.code not in self.settings.enabled:
                continue
            where = positions[report.node]
            key = (report.code, where.start.line, where.start.column)
            if key in seen:
                continue
            seen.add(key)
            if respect_noqa and is_suppressed(lines, where.start.line, report.code):
                result.suppressed[report.code] = result.suppressed.get(report.code, 0) + 1
                continue
            result.findings.append(
                Finding(
                    report.code,
                    report.message,
                    result.path,
                    where.start.line,
                    where.start.column + 1,
                    where.end.line,
                    where.end.column + 1,
                    suggestion=report.suggestion,
                    noqa_row=where.start.line,
                )
            )
        result.findings.sort(key=Finding.sort_key)


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


def error_result(
    path: str, code: str, message: str, row: int = 1, column: int = 1, frame: bool = False
) -> FileResult:
    """A file-level problem; `frame` says whether a code frame at `row` helps the reader."""
    finding = Finding(code, message, path, row, column, row, column, noqa_row=None, show_frame=frame)
    return FileResult(path, [finding])
