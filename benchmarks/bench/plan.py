"""What to time: measurements and the flake8-async subset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .common import SetupError, log
from .procs import Run, run_measured
from .setup import Unit


@dataclass
class Measurement:
    tool: str
    mode: str  # cold | warm | touched | (tools other than async-lint: "cold")
    scope: str  # "corpus" | "subset"
    argv: list[str]
    cwd: Path
    files: int
    lines: int
    before_each: object = None  # callable(rep) run untimed before each timed run
    runs: list[Run] = field(default_factory=list)
    fill_argv: list[str] | None = None  # warm modes: the untimed run that fills the cache (default: argv)

    @property
    def label(self) -> str:
        names = {"cold": "cold (no cache)", "cold-default": "cold (no cache), default rules",
                 "warm": "warm (cache, no change)", "touched": "warm, 1% files touched",
                 "precommit": f"warm, pre-commit on {self.files} changed files"}
        if self.tool == "async-lint":
            text = f"async-lint {names[self.mode]}"
        elif self.tool == "ruff":
            text = "ruff --select ASYNC --no-cache"
        else:
            text = "flake8 + flake8-async --select ASYNC"
        return text + (f" [{self.scope}]" if self.scope in ("subset", "app") else "")


def spread(items: list, count: int) -> list:
    """`count` items evenly spread over `items`, in order."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def estimate_and_pick_subset(units: list[Unit], lines_of: dict[str, int], flake8_argv: list[str], cwd: Path,
                             budget: float) -> dict:
    """Time flake8 on a sample, estimate the whole corpus and, if over budget, pick whole units that fit."""
    all_files = [f for u in units for f in u.files]
    total_lines = sum(u.lines for u in units)
    sample: list[str] = []
    for path in spread(all_files, min(len(all_files), 60)):
        sample.append(path)
        if sum(lines_of[p] for p in sample) >= 5000:
            break
    sample_lines = sum(lines_of[p] for p in sample)
    run = run_measured(flake8_argv + sample, cwd)
    if run.crashed:
        raise SetupError(f"flake8 crashed on the timing sample (exit {run.exit_code}):\n{run.stderr[-2000:]}")
    per_line = run.seconds / max(1, sample_lines)  # start-up included: errs on the slow side
    estimate = {"sample_files": len(sample), "sample_lines": sample_lines, "sample_seconds": round(run.seconds, 3),
                "estimated_corpus_seconds": round(per_line * total_lines, 1), "budget_seconds": budget}
    log(f"flake8-async sample: {len(sample)} files, {sample_lines} lines in {run.seconds:.1f} s; "
        f"whole corpus estimated at {per_line * total_lines:.0f} s (budget {budget:.0f} s)")
    if per_line * total_lines <= budget:
        return {"paths": ["."], "files": len(all_files), "lines": total_lines,
                "description": "the whole corpus", "estimate": estimate, "is_corpus": True}
    over = (f"flake8-async on the whole corpus is estimated at {per_line * total_lines:.0f} s, over the "
            f"{budget:.0f} s budget")
    chosen: list[Unit] = []
    for unit in sorted(units, key=lambda u: (u.lines, u.name)):  # smallest first: as many units as fit
        if per_line * (sum(u.lines for u in chosen) + unit.lines) > budget:
            break
        chosen.append(unit)
    if chosen:
        chosen.sort(key=lambda u: u.name)
        return {"paths": [u.name for u in chosen], "files": sum(len(u.files) for u in chosen),
                "lines": sum(u.lines for u in chosen), "estimate": estimate, "is_corpus": False,
                "description": "the packages " + ", ".join(u.name for u in chosen), "why": over}
    # No unit fits: evenly spread files up to the budget.
    picked: list[str] = []
    for path in spread(all_files, len(all_files)):
        if per_line * (sum(lines_of[p] for p in picked) + lines_of[path]) > budget:
            break
        picked.append(path)
    picked = spread(all_files, max(1, len(picked)))
    return {"paths": picked, "files": len(picked), "lines": sum(lines_of[p] for p in picked), "estimate": estimate,
            "is_corpus": False, "description": f"{len(picked)} files evenly spread over the corpus", "why": over}


def fixed_file_subset(units: list[Unit], lines_of: dict[str, int], count: int) -> dict:
    files = spread([f for u in units for f in u.files], count)
    return {"paths": files, "files": len(files), "lines": sum(lines_of[p] for p in files), "estimate": None,
            "is_corpus": False, "description": f"{len(files)} files evenly spread over the corpus",
            "why": "--quick runs flake8-async on a few files only"}
