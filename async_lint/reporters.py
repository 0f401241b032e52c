"""Output formats: `full` (code frames, like ruff), `concise`, `json` (ruff's shape) and `github` annotations."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Callable, TextIO

from rich.console import Console
from rich.markup import escape

from async_lint.catalog import Catalog
from async_lint.finding import Finding
from async_lint.source import SourceError, decode

FORMATS = ("full", "concise", "json", "github")


def display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _read_lines(path: str) -> list[str]:
    try:
        return decode(Path(path).read_bytes()).text.splitlines()
    except (OSError, SourceError):
        return []


def _frame(finding: Finding, lines: list[str]) -> list[str]:
    """The code frame of a finding: two lines of context, the span underlined with `^`."""
    if not finding.show_frame or not lines or finding.row > len(lines):
        return []
    first = max(1, finding.row - 1)
    last = min(len(lines), finding.end_row + 1, finding.row + 6)
    width = len(str(last))
    gutter = " " * width
    out = [f"[blue]{gutter} |[/]"]
    for row in range(first, last + 1):
        text = lines[row - 1].expandtabs(4) if "\t" not in lines[row - 1] else lines[row - 1].replace("\t", " ")
        out.append(f"[blue]{row:>{width}} |[/] {escape(text)}")
        if finding.row <= row <= finding.end_row:
            start = finding.column - 1 if row == finding.row else len(text) - len(text.lstrip())
            end = finding.end_column - 1 if row == finding.end_row else len(text)
            if end <= start:
                end = start + 1
            marks = " " * start + "^" * (end - start)
            label = f" [bold red]{finding.code}[/]" if row == finding.end_row else ""
            out.append(f"[blue]{gutter} |[/] [bold red]{marks}[/]{label}")
    out.append(f"[blue]{gutter} |[/]")
    return out


def write_full(console: Console, findings: list[Finding], catalog: Catalog) -> None:
    cache: dict[str, list[str]] = {}
    for finding in findings:
        where = f"{display_path(finding.path)}:{finding.row}:{finding.column}"
        fixable = ""
        if finding.fix is not None:
            fixable = " [cyan][*][/]" if finding.fix.applicability == "safe" else " [dim][unsafe fix][/]"
        console.print(f"[bold]{escape(where)}:[/] [bold red]{finding.code}[/]{fixable} {escape(finding.message)}")
        lines = cache.setdefault(finding.path, _read_lines(finding.path))
        for line in _frame(finding, lines):
            console.print(line)
        if finding.suggestion and finding.code != "AL002":
            console.print(f"[blue]{' ' * len(str(finding.row + 1))} =[/] [bold]help:[/] {escape(finding.suggestion)}")
        console.print()


def write_concise(console: Console, findings: list[Finding], catalog: Catalog) -> None:
    for finding in findings:
        where = f"{display_path(finding.path)}:{finding.row}:{finding.column}"
        fixable = " [*]" if finding.fix is not None and finding.fix.applicability == "safe" else ""
        console.print(f"{escape(where)}: [bold red]{finding.code}[/]{escape(fixable)} {escape(finding.message)}")


def json_object(finding: Finding) -> dict:
    fix = None
    if finding.fix is not None:
        fix = {
            "applicability": finding.fix.applicability,
            "message": finding.fix.message,
            "edits": [
                {
                    "content": edit.content,
                    "location": {"row": edit.row, "column": edit.column},
                    "end_location": {"row": edit.end_row, "column": edit.end_column},
                }
                for edit in finding.fix.edits
            ],
        }
    return {
        "code": finding.code,
        "message": finding.message,
        "filename": str(Path(finding.path).absolute()),
        "location": {"row": finding.row, "column": finding.column},
        "end_location": {"row": finding.end_row, "column": finding.end_column},
        "fix": fix,
        "url": None,
        "noqa_row": finding.noqa_row,
    }


def write_json(out: TextIO, findings: list[Finding]) -> None:
    json.dump([json_object(f) for f in findings], out, indent=2, ensure_ascii=False)
    out.write("\n")


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def write_github(out: TextIO, findings: list[Finding]) -> None:
    for f in findings:
        path = display_path(f.path)
        props = (
            f"file={_gh_escape(path, True)},line={f.row},col={f.column},"
            f"endLine={f.end_row},endColumn={f.end_column},title={f.code}"
        )
        out.write(f"::error {props}::{_gh_escape(f'{path}:{f.row}:{f.column}: {f.code} {f.message}')}\n")


def write_statistics(console: Console, findings: list[Finding], suppressed: Counter, catalog: Catalog) -> None:
    counts = Counter(f.code for f in findings)
    for code in sorted(set(counts) | set(suppressed)):
        name = catalog.rules[code].name if code in catalog.rules else ""
        extra = f"  ({suppressed[code]} suppressed)" if suppressed.get(code) else ""
        console.print(f"{counts.get(code, 0):>5}  {code}  {name}{extra}", highlight=False, markup=False)


Writer = Callable[[Console, list[Finding], Catalog], None]
