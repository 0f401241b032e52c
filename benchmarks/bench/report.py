"""Rows, ratios to ruff and flake8-async, targets and the Markdown table."""

from __future__ import annotations

import shlex
import statistics

from .plan import Measurement


def summarize(m: Measurement) -> dict:
    runs = m.runs
    ok = [r for r in runs if not r.crashed]
    seconds = statistics.median(r.seconds for r in ok) if ok else None
    trees = [r.tree_rss_mb for r in runs if r.tree_rss_mb is not None]
    return {
        "label": m.label,
        "tool": m.tool,
        "mode": m.mode,
        "scope": m.scope,
        "command": shlex.join(m.argv[:8]) + (" ..." if len(m.argv) > 8 else ""),
        "files": m.files,
        "lines": m.lines,
        "seconds": round(seconds, 3) if seconds is not None else None,
        "lines_per_s": round(m.lines / seconds) if seconds else None,
        "cpu_seconds": round(statistics.median(r.cpu_seconds for r in ok), 3) if ok else None,
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1) if runs else None,
        "tree_rss_mb": round(max(trees), 1) if trees else None,
        "runs": [{"seconds": round(r.seconds, 3), "cpu_seconds": round(r.cpu_seconds, 3),
                  "peak_rss_mb": round(r.peak_rss_mb, 1),
                  "tree_rss_mb": round(r.tree_rss_mb, 1) if r.tree_rss_mb is not None else None,
                  "exit_code": r.exit_code, "crashed": r.crashed} for r in runs],
        "crashed": any(r.crashed for r in runs),
        "ratio_to_ruff": None,
        "cpu_ratio_to_ruff": None,
        "ratio_to_flake8_async": None,
    }


def add_ratios(rows: list[dict]) -> None:
    """Each async-lint row's time as a multiple of ruff's and flake8-async's on the same files (wall time), and
    its CPU time as a multiple of ruff's (what to compare on a loaded machine). A pre-commit row is compared with
    nothing: it lints a few files, ruff the whole scope."""
    def find(tool: str, scope: str) -> dict | None:
        return next((r for r in rows if r["tool"] == tool and r["scope"] == scope and r["seconds"]), None)

    for row in rows:
        if row["tool"] != "async-lint" or not row["seconds"] or row["mode"] == "precommit":
            continue
        ruff = find("ruff", row["scope"])
        if ruff:
            row["ratio_to_ruff"] = round(row["seconds"] / ruff["seconds"], 2)
            if row.get("cpu_seconds") and ruff.get("cpu_seconds"):
                row["cpu_ratio_to_ruff"] = round(row["cpu_seconds"] / ruff["cpu_seconds"], 2)
        flake8 = find("flake8-async", row["scope"])
        if flake8:
            row["ratio_to_flake8_async"] = round(row["seconds"] / flake8["seconds"], 4)


def evaluate_targets(rows: list[dict], cache_supported: bool) -> list[dict]:
    def row(mode: str, scope: str) -> dict | None:
        return next((r for r in rows if r["tool"] == "async-lint" and r["mode"] == mode and r["scope"] == scope
                     and r["seconds"]), None)

    def ruff_row(scope: str) -> dict | None:
        return next((r for r in rows if r["tool"] == "ruff" and r["scope"] == scope and r["seconds"]), None)

    targets = []
    flake8 = next((r for r in rows if r["tool"] == "flake8-async" and r["seconds"]), None)
    if flake8:
        cold = row("cold", flake8["scope"])
        if cold:
            speedup = flake8["seconds"] / cold["seconds"]
            targets.append({"target": "cold >= 30x faster than flake8 + flake8-async (same files)",
                            "measured": f"{speedup:.1f}x faster", "met": speedup >= 30})
    ruff = ruff_row("corpus")

    def cpu_target(mode: str, name: str, limit: float, note: str = "") -> None:
        ours = row(mode, "corpus")
        if ours and ruff and ours.get("cpu_seconds") and ruff.get("cpu_seconds"):
            ratio = ours["cpu_seconds"] / ruff["cpu_seconds"]
            targets.append({"target": f"{name} within {limit:g}x of ruff (CPU seconds)",
                            "measured": f"{ratio:.1f}x ruff's CPU time{note}", "met": ratio <= limit})

    cpu_target("cold", "cold", 30)
    cpu_target("cold-default", "cold with the default rules", 40)
    cpu_target("warm", "warm (no change)", 3,
               "" if cache_supported else " (this async-lint has no cache: warm = an uncached rerun)")
    precommit = row("precommit", "app")
    if precommit:
        targets.append({"target": "warm pre-commit run on 5 changed files within 0.3 s (wall)",
                        "measured": f"{precommit['seconds']:.2f} s wall, {precommit['cpu_seconds']:.2f} s CPU",
                        "met": precommit["seconds"] <= 0.3})
    ours = [r for r in rows if r["tool"] == "async-lint" and r["peak_rss_mb"] is not None]
    if ours:
        peak = max(r["peak_rss_mb"] for r in ours)
        trees = [r["tree_rss_mb"] for r in ours if r["tree_rss_mb"] is not None]
        tree = max(trees) if trees else None
        measured = f"{peak:.0f} MB largest process" + (f", {tree:.0f} MB summed over workers" if tree else "")
        targets.append({"target": "peak RSS under 500 MB", "measured": measured,
                        "met": peak < 500 and (tree is None or tree < 500)})
    return targets


def fmt(value, spec: str = "", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def markdown_table(rows: list[dict], repeat: int) -> str:
    head = ["tool / mode", "files", "lines", f"wall s (median of {repeat})", "CPU s", "lines/s (wall)",
            "peak RSS MB", "RSS sum MB", "x ruff (CPU)", "x ruff (wall)", "x flake8-async"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        seconds = "CRASH" if r["crashed"] and r["seconds"] is None else fmt(r["seconds"], ".2f")
        lines.append("| " + " | ".join([
            r["label"], str(r["files"]), f"{r['lines']:,}", seconds, fmt(r["cpu_seconds"], ".2f"),
            fmt(r["lines_per_s"], ",d"), fmt(r["peak_rss_mb"], ".0f"), fmt(r["tree_rss_mb"], ".0f"),
            fmt(r.get("cpu_ratio_to_ruff"), ".1f"), fmt(r["ratio_to_ruff"], ".1f"),
            fmt(r["ratio_to_flake8_async"], ".3f"),
        ]) + " |")
    return "\n".join(lines)
