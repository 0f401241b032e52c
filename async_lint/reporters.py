"""Output formats: `full` (code frames, like ruff), `concise`, `json` (ruff's shape), `github` annotations,
`sarif` (SARIF 2.1.0, for code scanning) and `junit` (JUnit XML, one test case per finding, for CI dashboards)."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from async_lint import __version__
from async_lint.catalog import Catalog, RuleDoc
from async_lint.console import escape
from async_lint.finding import Finding
from async_lint.paths import display_path
from async_lint.source import SourceError, decode

if TYPE_CHECKING:  # rich's Console or console.PlainConsole: rich is imported only for a terminal
    import xml.etree.ElementTree as ET

    Console = Any

FORMATS = ("full", "concise", "json", "github", "sarif", "junit")
# Formats read by programs: no progress bar, no summary line, nothing but the document on stdout.
MACHINE_FORMATS = frozenset({"json", "github", "sarif", "junit"})
# Where a rule's documentation lives when the installed package names no repository (its `Repository` project
# URL): docs/rules.md of the repository, one heading per rule.
REPOSITORY_URL = "https://github.com/OWNER/async-lint"
RULES_DOC = "blob/main/docs/rules.md"


def rule_anchor(code: str, name: str) -> str:
    """GitHub's anchor of a rule's heading in docs/rules.md (`### AL101 blocking-sleep`): lower case, spaces to
    dashes. scripts/gen_rule_docs.py links the table to the same anchors."""
    return f"{code} {name}".lower().replace(" ", "-")


_BASE: list[str] = []


def rules_doc_url() -> str:
    """docs/rules.md in the repository the package metadata names (`[project.urls] Repository`), else in
    REPOSITORY_URL."""
    if not _BASE:
        base = REPOSITORY_URL
        try:
            from importlib.metadata import PackageNotFoundError, metadata

            for entry in metadata("async-lint").get_all("Project-URL") or []:
                label, _, url = entry.partition(",")
                if label.strip().lower() in ("repository", "source", "source code") and url.strip():
                    base = url.strip()
                    break
        except (ImportError, PackageNotFoundError):
            pass
        _BASE.append(f"{base.rstrip('/')}/{RULES_DOC}")
    return _BASE[0]


def rule_url(code: str, catalog: Catalog | None) -> str | None:
    rule = catalog.rules.get(code) if catalog is not None else None
    return f"{rules_doc_url()}#{rule_anchor(rule.code, rule.name)}" if rule is not None else None


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
            fixable = " [cyan][*][/]" if finding.fix.applicability == "safe" else f" [dim]{escape('[unsafe fix]')}[/]"
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


def json_object(finding: Finding, catalog: Catalog | None = None) -> dict:
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
    rule = catalog.rules.get(finding.code) if catalog is not None else None
    return {
        "code": finding.code,
        "name": rule.name if rule is not None else None,
        "message": finding.message,
        "filename": str(Path(finding.path).absolute()),
        "location": {"row": finding.row, "column": finding.column},
        "end_location": {"row": finding.end_row, "column": finding.end_column},
        "fix": fix,
        "url": rule_url(finding.code, catalog),
        "noqa_row": finding.noqa_row,
    }


def write_json(out: TextIO, findings: list[Finding], catalog: Catalog | None = None) -> None:
    json.dump([json_object(f, catalog) for f in findings], out, indent=2, ensure_ascii=False)
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


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def rule_markdown(rule: RuleDoc) -> str:
    """A rule's page as Markdown: what it finds, why it is bad, an example, the fix and its safety."""
    parts = [rule.summary, "", "## Why is this bad?", rule.why]
    if rule.bad:
        parts += ["", "## Example", "```python", rule.bad, "```"]
    if rule.good:
        parts += ["", "## Use instead", "```python", rule.good, "```"]
    parts += ["", f"## Fix ({fix_label(rule)})", rule.fix or "-"]
    return "\n".join(parts).strip() + "\n"


def fix_label(rule: RuleDoc) -> str:
    return {"safe": "safe fix", "unsafe": "unsafe fix, needs --unsafe-fixes"}.get(rule.fix_safety, "no automatic fix")


def _sarif_rule(rule: RuleDoc) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why or rule.summary},
        "help": {"text": f"{rule.summary}\n\n{rule.why}\n\nFix: {rule.fix}".strip(), "markdown": rule_markdown(rule)},
        "defaultConfiguration": {"enabled": rule.default, "level": "error"},
        "properties": {"fixSafety": rule.fix_safety, "tags": [rule.family] if rule.family else []},
    }


def _sarif_artifact(path: str) -> dict:
    """Paths under the current folder are relative to %SRCROOT% (what code scanning expects); others are file URIs."""
    absolute = Path(path).absolute()
    try:
        rel = absolute.relative_to(Path.cwd())
    except ValueError:
        return {"uri": absolute.as_uri()}
    from urllib.parse import quote  # only SARIF output needs it (imports cost a run that prints none)

    return {"uri": quote(rel.as_posix()), "uriBaseId": SRCROOT}


def _sarif_region(row: int, column: int, end_row: int, end_column: int) -> dict:
    region = {"startLine": max(row, 1), "startColumn": max(column, 1)}
    if end_row >= row and (end_row, end_column) != (row, column):
        region["endLine"] = end_row
        region["endColumn"] = max(end_column, 1)
    return region


def sarif_log(findings: list[Finding], catalog: Catalog) -> dict:
    rules = sorted(catalog.rules.values(), key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    for f in findings:
        text = f.message
        if f.suggestion and f.code != "AL002":  # AL002's suggestion is a traceback, for --show-traceback
            text += f"\nhelp: {f.suggestion}"
        result: dict = {
            "ruleId": f.code,
            "level": "error",
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": _sarif_artifact(f.path),
                "region": _sarif_region(f.row, f.column, f.end_row, f.end_column),
            }}],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.fix is not None and f.fix.edits:
            result["fixes"] = [{
                "description": {"text": f.fix.message or "async-lint fix"},
                "artifactChanges": [{
                    "artifactLocation": _sarif_artifact(f.path),
                    "replacements": [
                        {"deletedRegion": _sarif_region(e.row, e.column, e.end_row, e.end_column),
                         "insertedContent": {"text": e.content}}
                        for e in f.fix.edits
                    ],
                }],
            }]
            result["properties"] = {"fixApplicability": f.fix.applicability}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "async-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_sarif_rule(rule) for rule in rules],
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def write_sarif(out: TextIO, findings: list[Finding], catalog: Catalog) -> None:
    json.dump(sarif_log(findings, catalog), out, indent=2, ensure_ascii=False)
    out.write("\n")


@lru_cache(maxsize=1)
def _xml_invalid() -> re.Pattern:
    """Characters XML 1.0 cannot carry, even escaped (compiled on first use: 7 ms, for JUnit output only)."""
    return re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _xml_invalid().sub("\ufffd", text)


def junit_tree(findings: list[Finding]) -> "ET.Element":
    """One <testsuite> per file, one failing <testcase> per finding (AL002, a crash of async-lint, is an <error>).
    A clean run is one passing test case, so dashboards show a run rather than nothing."""
    import xml.etree.ElementTree as ET  # JUnit output only

    root = ET.Element("testsuites", name="async-lint")
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(display_path(f.path), []).append(f)
    if not by_file:
        suite = ET.SubElement(root, "testsuite", name="async-lint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="No findings", classname="async-lint")
    for path, items in by_file.items():
        errors = sum(f.code == "AL002" for f in items)
        suite = ET.SubElement(root, "testsuite", name=_xml_text(path), tests=str(len(items)),
                              failures=str(len(items) - errors), errors=str(errors))
        for f in items:
            case = ET.SubElement(suite, "testcase", name=_xml_text(f"{f.code} at {path}:{f.row}:{f.column}"),
                                 classname=_xml_text(path), file=_xml_text(path), line=str(f.row))
            kind = "error" if f.code == "AL002" else "failure"
            detail = f"{path}:{f.row}:{f.column}: {f.code} {f.message}"
            if f.suggestion and f.code != "AL002":
                detail += f"\nhelp: {f.suggestion}"
            element = ET.SubElement(case, kind, message=_xml_text(f.message), type=f.code)
            element.text = _xml_text(detail)
    total = max(len(findings), 1)
    errors = sum(f.code == "AL002" for f in findings)
    root.set("tests", str(total))
    root.set("failures", str(len(findings) - errors))
    root.set("errors", str(errors))
    return root


def write_junit(out: TextIO, findings: list[Finding]) -> None:
    import xml.etree.ElementTree as ET

    tree = junit_tree(findings)
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(tree, encoding="unicode"))
    out.write("\n")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def summary_line(findings: list[Finding], files: int, elapsed: float, fixed: int = 0,
                 unsafe_fixes: bool = False) -> str:
    """`Found 12 findings (5 fixable with --fix, 3 more with --unsafe-fixes) in 143 files, 0.8 s.`; the fix parts
    only when some finding has a fix of that kind. After `--fix`, `fixed` counts the applied fixes."""
    where = f"{_plural(files, 'file')}, {elapsed:.1f} s"
    if not findings and not fixed:
        return f"All checks passed! ({where})"
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
    unsafe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "unsafe")
    parts = []
    if fixed:
        parts.append(f"{fixed} fixed, {len(findings)} remaining")
    if safe:
        parts.append(f"{safe} fixable with --fix")
    if unsafe and not unsafe_fixes:
        parts.append(f"{unsafe} more with --unsafe-fixes" if safe or fixed else f"{unsafe} fixable with --unsafe-fixes")
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"Found {_plural(len(findings) + fixed, 'finding')}{detail} in {where}."


def write_report(fmt: str, findings: list[Finding], catalog: Catalog, *, stream: TextIO, console: Console,
                 statistics: bool = False, suppressed: Counter | None = None) -> None:
    """The findings in output format `fmt` (or the statistics table): the machine-read formats go to `stream`, the
    text ones to `console`."""
    if statistics and fmt == "json":
        write_json_statistics(stream, findings, catalog)
    elif statistics:
        write_statistics(console, findings, suppressed if suppressed is not None else Counter(), catalog)
    elif fmt == "json":
        write_json(stream, findings, catalog)
    elif fmt == "github":
        write_github(stream, findings)
    elif fmt == "sarif":
        write_sarif(stream, findings, catalog)
    elif fmt == "junit":
        write_junit(stream, findings)
    elif fmt == "concise":
        write_concise(console, findings, catalog)
    else:
        write_full(console, findings, catalog)


def write_statistics(console: Console, findings: list[Finding], suppressed: Counter, catalog: Catalog) -> None:
    counts = Counter(f.code for f in findings)
    for code in sorted(set(counts) | set(suppressed)):
        name = catalog.rules[code].name if code in catalog.rules else ""
        extra = f"  ({suppressed[code]} suppressed)" if suppressed.get(code) else ""
        console.print(f"{counts.get(code, 0):>5}  {code}  {name}{extra}", highlight=False, markup=False)


def statistics_rows(findings: list[Finding], catalog: Catalog) -> list[dict]:
    """ruff's `--statistics --output-format json`: one {code, name, count, fixable, fixable_count} per rule, the
    most frequent first. `fixable`: some finding of the rule has a safe fix (what `--fix` applies)."""
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None and f.fix.applicability == "safe")
    return [{"code": code, "name": catalog.rules[code].name if code in catalog.rules else None, "count": count,
             "fixable": fixable[code] > 0, "fixable_count": fixable[code]}
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def write_json_statistics(out: TextIO, findings: list[Finding], catalog: Catalog) -> None:
    json.dump(statistics_rows(findings, catalog), out, indent=2, ensure_ascii=False)
    out.write("\n")


Writer = Callable[[Any, list[Finding], Catalog], None]  # Any: a rich Console or a PlainConsole
