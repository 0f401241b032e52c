"""The pure part of the real-world corpus loop: findings, labels, seeded samples, summaries and the precision report.

No network, no subprocesses: `corpus.py` does the fetching and linting and calls these. The tests in
tests/test_realworld_tools.py exercise them on a fake corpus.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

VERDICTS = ("TP", "FP", "debatable")
LABEL_FIELDS = ("package", "version", "path", "line", "code", "verdict", "reason")
TEST_DIRS = {"tests", "test"}


class _Located:
    """What a finding and a label share (both dataclasses with package, version, path, line and code): where they
    point (`package/version/path:line`) and their match key."""

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.package, self.version, self.path, self.line, self.code)

    @property
    def where(self) -> str:
        return f"{self.package}/{self.version}/{self.path}:{self.line}"


@dataclass(frozen=True, order=True)
class Finding(_Located):
    package: str
    version: str
    path: str  # relative to the unpacked package folder, forward slashes
    line: int
    column: int
    code: str
    message: str

    def line_text(self) -> str:
        return f"{self.where} {self.code} {self.message}"


@dataclass(frozen=True)
class Label(_Located):
    package: str
    version: str
    path: str
    line: int
    code: str
    verdict: str
    reason: str


# --- paths and locations -------------------------------------------------------------------------------------

def is_test_path(path: str) -> bool:
    """pytest's conventions: test_*.py, *_test.py, conftest.py, or a tests/ or test/ folder in the path."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    if name == "conftest.py" or (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py"):
        return True
    return any(part in TEST_DIRS for part in parts[:-1])


def parse_location(text: str) -> tuple[str, str, str, int]:
    """`package/version/path:line` (anything after the first blank, e.g. a copied sample line, is ignored)."""
    token = text.strip().split()[0] if text.strip() else ""
    where, sep, line = token.rpartition(":")
    parts = where.split("/", 2)
    if not sep or not line.isdigit() or len(parts) != 3 or not all(parts):
        raise ValueError(f"expected package/version/path:line, got {text!r}")
    return parts[0], parts[1], parts[2], int(line)


# --- findings ------------------------------------------------------------------------------------------------

def findings_from_json(package: str, version: str, root: Path, data: list[dict]) -> list[Finding]:
    """async-lint's `--output-format json` records, with file names made relative to the package folder."""
    root = root.resolve()
    result = []
    for item in data:
        filename = Path(item["filename"])
        try:
            rel = filename.resolve().relative_to(root).as_posix()
        except ValueError:
            rel = filename.as_posix()
        location = item.get("location") or {}
        result.append(Finding(package, version, rel, int(location.get("row") or 0), int(location.get("column") or 0),
                              item["code"], item.get("message", "")))
    return sorted(result)


def save_results(path: Path, meta: dict, packages: list[dict], findings: list[Finding]) -> None:
    data = {"meta": meta, "packages": packages, "findings": [asdict(f) for f in sorted(findings)]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_results(path: Path) -> tuple[dict, list[dict], list[Finding]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("meta", {}), data.get("packages", []), [Finding(**f) for f in data.get("findings", [])]


def _score(seed: int, finding: Finding) -> str:
    text = "\0".join((str(seed), *map(str, finding.key), str(finding.column)))
    return hashlib.sha256(text.encode()).hexdigest()


def sample(findings: list[Finding], seed: int, k: int) -> list[Finding]:
    """K findings chosen by seed, sorted by location. Each finding gets a score hashed from the seed and its own
    location, and the K lowest win: the same seed gives the same sample on any machine, and a finding stays in
    the sample when other findings come or go (only a newcomer with a lower score can push it out)."""
    ranked = sorted(set(findings), key=lambda f: (_score(seed, f), f))
    return sorted(ranked[:max(k, 0)])


# --- labels --------------------------------------------------------------------------------------------------

def parse_labels(text: str, source: str = "labels") -> list[Label]:
    """CSV with the header package,version,path,line,code,verdict,reason. Lines starting with # are comments."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if tuple(reader.fieldnames or ()) != LABEL_FIELDS:
        raise ValueError(f"{source}: header must be {','.join(LABEL_FIELDS)}, got {reader.fieldnames}")
    labels = []
    for number, row in enumerate(reader, start=2):
        verdict = (row.get("verdict") or "").strip()
        canon = {v.lower(): v for v in VERDICTS}.get(verdict.lower())
        if canon is None:
            raise ValueError(f"{source}: row {number}: verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
        line = (row.get("line") or "").strip()
        if not line.isdigit():
            raise ValueError(f"{source}: row {number}: line must be a number, got {line!r}")
        labels.append(Label(row["package"].strip(), row["version"].strip(), row["path"].strip(), int(line),
                            row["code"].strip(), canon, (row.get("reason") or "").strip()))
    return labels


def load_labels(path: Path) -> list[Label]:
    return parse_labels(path.read_text(encoding="utf-8"), str(path)) if path.exists() else []


def format_label_row(label: Label) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([getattr(label, name) for name in LABEL_FIELDS])
    return out.getvalue()


def append_label(path: Path, label: Label) -> None:
    """Add a row (the header first if the file is new); a file that does not end in a newline gets one."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not text:
        text = ",".join(LABEL_FIELDS) + "\n"
    elif not text.endswith("\n"):
        text += "\n"
    path.write_text(text + format_label_row(label), encoding="utf-8")


# --- summary and report --------------------------------------------------------------------------------------

def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def summary_lines(meta: dict, packages: list[dict], findings: list[Finding]) -> list[str]:
    """Per-code counts, per-family counts, per-app counts and the share of findings in test files."""
    total = len(findings)
    in_tests = sum(is_test_path(f.path) for f in findings)
    files = sum(p.get("files", 0) for p in packages)
    out = [f"{meta.get('async_lint', 'async-lint')} on {len(packages)} packages ({files} .py files), "
           f"args: {' '.join(meta.get('args', [])) or '(defaults)'}",
           f"findings: {total}, in test files: {in_tests} ({_share(in_tests, total)})", ""]
    by_code = Counter(f.code for f in findings)
    tests_by_code = Counter(f.code for f in findings if is_test_path(f.path))
    apps_by_code = {code: len({f.package for f in findings if f.code == code}) for code in by_code}
    out.append(f"{'code':8} {'count':>7} {'tests':>6} {'apps':>5}")
    for code in sorted(by_code):
        out.append(f"{code:8} {by_code[code]:7} {tests_by_code[code]:6} {apps_by_code[code]:5}")
    out.append("")
    by_family = Counter(f.code[:3] for f in findings)
    out.append(f"{'family':8} {'count':>7} {'tests':>6}")
    for family in sorted(by_family):
        out.append(f"{family:8} {by_family[family]:7} {sum(tests_by_code[c] for c in by_code if c[:3] == family):6}")
    out.append("")
    out.append(f"{'package':28} {'version':12} {'files':>6} {'findings':>8} {'tests':>6} {'seconds':>8} top codes")
    for p in packages:
        mine = [f for f in findings if f.package == p["package"] and f.version == p["version"]]
        top = ", ".join(f"{c} {n}" for c, n in Counter(f.code for f in mine).most_common(4))
        status = "" if p.get("returncode", 0) in (0, 1) else f"  [async-lint exit {p.get('returncode')}]"
        out.append(f"{p['package']:28} {p['version']:12} {p.get('files', 0):6} {len(mine):8} "
                   f"{sum(is_test_path(f.path) for f in mine):6} {p.get('seconds', 0):8.1f} {top}{status}")
    return out


@dataclass
class Report:
    matched: list[Label]
    stale: list[Label]  # their package was linted, but no current finding has their location and code
    unchecked: list[Label]  # their package/version was not in the last lint
    duplicates: list[Label]
    unlabelled: list[Finding]


def match_labels(labels: list[Label], packages: list[dict], findings: list[Finding]) -> Report:
    linted = {(p["package"], p["version"]) for p in packages}
    current = {f.key for f in findings}
    seen: set = set()
    report = Report([], [], [], [], [])
    for label in labels:
        if label.key in seen:
            report.duplicates.append(label)
            continue
        seen.add(label.key)
        if label.key in current:
            report.matched.append(label)
        elif (label.package, label.version) in linted:
            report.stale.append(label)
        else:
            report.unchecked.append(label)
    first = {}
    for finding in sorted(findings):
        if finding.key not in seen:
            first.setdefault(finding.key, finding)
    report.unlabelled = list(first.values())
    return report


def precision_rows(labels: list[Label], group) -> list[tuple[str, int, int, int, int, float | None]]:
    """(group, TP, FP, debatable, judged, strict precision) per group; debatable counts against precision."""
    counts: dict[str, Counter] = {}
    for label in labels:
        counts.setdefault(group(label.code), Counter())[label.verdict] += 1
    rows = []
    for name in sorted(counts):
        c = counts[name]
        judged = c["TP"] + c["FP"] + c["debatable"]
        rows.append((name, c["TP"], c["FP"], c["debatable"], judged, c["TP"] / judged if judged else None))
    return rows


def report_lines(report: Report, limit: int = 20, seed: int | None = None, show_stale: bool = False) -> list[str]:
    out = []
    for title, group in (("code", lambda code: code), ("family", lambda code: code[:3])):
        rows = precision_rows(report.matched, group)
        out.append(f"{title:8} {'TP':>5} {'FP':>5} {'debat.':>6} {'judged':>6} {'precision':>9}")
        for name, tp, fp, deb, judged, precision in rows:
            out.append(f"{name:8} {tp:5} {fp:5} {deb:6} {judged:6} "
                       f"{'-' if precision is None else f'{100 * precision:.1f}%':>9}")
        total = precision_rows(report.matched, lambda code: "all")
        if total:
            _, tp, fp, deb, judged, precision = total[0]
            out.append(f"{'all':8} {tp:5} {fp:5} {deb:6} {judged:6} {100 * precision:8.1f}%")
        out.append("")
    out.append(f"labels matching a current finding: {len(report.matched)}; stale (package linted, no such finding "
               f"now): {len(report.stale)}; not checked (package not in the last lint): {len(report.unchecked)}"
               + (f"; duplicates ignored: {len(report.duplicates)}" if report.duplicates else ""))
    if show_stale:
        for label in report.stale:
            out.append(f"  stale {label.where} {label.code} {label.verdict}: {label.reason}")
    unlabelled = report.unlabelled
    per_code = Counter(f.code for f in unlabelled)
    out.append(f"unlabelled findings: {len(unlabelled)}"
               + (" (" + ", ".join(f"{c} {n}" for c, n in sorted(per_code.items())) + ")" if per_code else ""))
    shown = sample(unlabelled, seed, limit) if seed is not None else unlabelled[:limit]
    if shown:
        out.append(f"first {len(shown)}" + (f" (seeded sample, seed {seed})" if seed is not None else "") + ":")
        out.extend("  " + f.line_text() for f in shown)
    return out
