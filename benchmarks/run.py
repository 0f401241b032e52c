#!/usr/bin/env python3
"""Benchmark async-lint against ruff (ASYNC rules) and flake8 + flake8-async on real FastAPI-stack code.

    python benchmarks/run.py                 # full: pinned packages from PyPI, 3 repetitions
    python benchmarks/run.py --quick         # httpx + starlette, 1 repetition, flake8 on 10 files
    python benchmarks/run.py --corpus DIR --tools async-lint --repeat 1   # no installs, an existing folder

The corpus is the pure-Python source of pinned releases installed into a scratch venv (default
~/.cache/async-lint-bench/venv, reused when its versions match). Only `.py` files are copied, into temporary
folders (one per mode, so caches never mix), leaving out folders that any of the tools skips by default, so every
tool sees exactly the same files. The venv and a `--corpus` folder are never modified.

Modes of async-lint: cold (no cache), warm (cache filled by an untimed run, nothing changed), touched (warm, then a
comment line appended to 1% of the files before each timed run). Runs are interleaved: each repetition runs
every measurement once, round-robin. Each run's wall time comes from perf_counter; its CPU time and peak RSS from
`os.wait4` (the largest single process of the tree: Linux reports the max over the child and its reaped
descendants); a sampler also sums the RSS of the whole process tree (workers included) every 50 ms.

Linter exit codes 0 and 1 (findings) are fine; any other exit code, or a traceback on stderr, is a crash: it is
reported and the script exits 1. Setup problems (install failed, tool missing) exit 2.

Standard library only (async-lint itself runs from this interpreter unless `--async-lint CMD` says otherwise).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Verified to install together cleanly from PyPI with CPython 3.11 (prefect 3.9.1 constrains fastapi to 0.150.x).
CORPUS_PINS = {
    "fastapi": "0.150.0",
    "starlette": "1.10.0",
    "httpx": "0.28.1",
    "sqlalchemy": "2.1.9",
    "pydantic": "2.14.4",
    "prefect": "3.9.1",  # the large FastAPI application (open-webui pulls in torch: far too slow to install)
}
TOOL_PINS = {"ruff": "0.17.6", "flake8": "7.5.0", "flake8-async": "26.8.1"}
# distribution -> the folder in site-packages that is its source
PACKAGE_DIRS = {"fastapi": "fastapi", "starlette": "starlette", "httpx": "httpx", "sqlalchemy": "sqlalchemy",
                "pydantic": "pydantic", "prefect": "prefect"}
QUICK_PACKAGES = ("httpx", "starlette")
QUICK_FLAKE8_FILES = 10

# Folders skipped by default by async-lint, ruff or flake8: left out of the copy so all see the same files.
SKIP_DIRS = {
    "__pycache__", "build", "dist", "venv", ".venv", "node_modules", "site-packages", "_build", "buck-out",
    "__pypackages__", "CVS",
}
TOOLS = ("async-lint", "ruff", "flake8-async")
CACHE_DIR = ".async_lint_cache"
TOUCH_FRACTION = 0.01
SAMPLE_INTERVAL = 0.05


class SetupError(Exception):
    """The benchmark cannot run (exit 2)."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------- running


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_mb: float | None  # sampled sum over the tree (shared pages counted once per process)
    exit_code: int
    crashed: bool
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
        except OSError:
            pass
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class TreeSampler(threading.Thread):
    """Polls the RSS of a process and its descendants; keeps the largest sum seen (Linux /proc only)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.supported = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
        self._done = threading.Event()

    def run(self) -> None:
        while self.supported and not self._done.is_set():
            total, todo, seen = 0, [self.pid], set()
            while todo:
                pid = todo.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                total += _rss_bytes(pid)
                todo.extend(_children(pid))
            self.peak = max(self.peak, total)
            self._done.wait(SAMPLE_INTERVAL)

    def stop(self) -> None:
        self._done.set()
        self.join()


def looks_crashed(exit_code: int, stderr: str) -> bool:
    return exit_code not in (0, 1) or "Traceback (most recent call last)" in stderr or "panicked" in stderr


def run_measured(argv: list[str], cwd: Path) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    maxrss_kb = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KiB on Linux
    return Run(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=maxrss_kb / 1024,
        # A short run can end between two samples; the tree holds at least its largest process.
        tree_rss_mb=max(sampler.peak / 2**20, maxrss_kb / 1024) if sampler.supported else None,
        exit_code=proc.returncode,
        crashed=looks_crashed(proc.returncode, stderr),
        stdout=stdout,
        stderr=stderr,
    )


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available on this platform
        return None


def capture(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


# --------------------------------------------------------------------------------------------------- setup


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def venv_bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def installed_versions(venv: Path, names: list[str]) -> dict[str, str | None]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = None\n"
        "print(json.dumps(out))\n"
    )
    done = capture([str(venv_python(venv)), "-c", code, *names])
    if done.returncode != 0:
        return {n: None for n in names}
    return json.loads(done.stdout)


def ensure_venv(venv: Path, pins: dict[str, str]) -> None:
    """Create the scratch venv if needed and install the pins that are missing or at another version."""
    if not venv_python(venv).exists():
        log(f"creating the scratch venv {venv}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        done = capture([sys.executable, "-m", "venv", str(venv)])
        if done.returncode != 0:
            raise SetupError(f"could not create {venv}: {done.stderr.strip()}")
    have = installed_versions(venv, list(pins))
    wrong = {name: version for name, version in pins.items() if have.get(name) != version}
    if not wrong:
        log(f"reusing {venv} (versions match)")
        return
    # Install every pin in one resolution so the set stays consistent, even if only some are missing.
    log(f"installing into {venv}: " + ", ".join(f"{n}=={v}" for n, v in wrong.items()))
    started = time.perf_counter()
    done = capture([str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *(f"{n}=={v}" for n, v in pins.items())])
    if done.returncode != 0:
        raise SetupError(f"pip install failed:\n{done.stdout}{done.stderr}")
    have = installed_versions(venv, list(pins))
    wrong = {n: have.get(n) for n, v in pins.items() if have.get(n) != v}
    if wrong:
        raise SetupError(f"after installing, versions differ from the pins: {wrong}")
    log(f"installed in {time.perf_counter() - started:.0f} s")


def site_packages(venv: Path) -> Path:
    done = capture([str(venv_python(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    if done.returncode != 0:
        raise SetupError(f"cannot ask {venv} for its site-packages: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def copy_python_tree(src: Path, dst: Path) -> None:
    """Copy the .py files of src (a folder or a file) to dst, leaving out skipped and hidden folders."""
    if src.is_file():
        if src.suffix == ".py":
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        return
    for folder, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg"))
        rel = Path(folder).relative_to(src)
        for name in files:
            if name.endswith(".py"):
                target = dst / rel / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(folder) / name, target)


def make_corpus_copy(units: dict[str, Path], dst: Path) -> None:
    dst.mkdir(parents=True)
    for name, src in units.items():
        copy_python_tree(src, dst / name)
    # Pins the project root (and so async-lint's cache folder) to the copy; holds no settings.
    (dst / "pyproject.toml").write_text("[tool.async-lint]\n", encoding="utf-8")


def count_lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


@dataclass
class Unit:
    """A top-level entry of the corpus (a package folder, or a file)."""

    name: str
    files: list[str]  # paths relative to the corpus root, sorted
    lines: int


def scan(root: Path, names: list[str]) -> list[Unit]:
    units = []
    for name in names:
        path = root / name
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        rels = [p.relative_to(root).as_posix() for p in files]
        units.append(Unit(name, rels, sum(count_lines(p) for p in files)))
    return units


# --------------------------------------------------------------------------------------------------- plan


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

    @property
    def label(self) -> str:
        names = {"cold": "cold (no cache)", "warm": "warm (cache, no change)", "touched": "warm, 1% files touched"}
        if self.tool == "async-lint":
            text = f"async-lint {names[self.mode]}"
        elif self.tool == "ruff":
            text = "ruff --select ASYNC --no-cache"
        else:
            text = "flake8 + flake8-async --select ASYNC"
        return text + (" [subset]" if self.scope == "subset" else "")


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


# --------------------------------------------------------------------------------------------------- report


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
        "ratio_to_flake8_async": None,
    }


def add_ratios(rows: list[dict]) -> None:
    """Each async-lint row's time as a multiple of ruff's and flake8-async's on the same files."""
    def find(tool: str, scope: str) -> dict | None:
        return next((r for r in rows if r["tool"] == tool and r["scope"] == scope and r["seconds"]), None)

    for row in rows:
        if row["tool"] != "async-lint" or not row["seconds"]:
            continue
        ruff = find("ruff", row["scope"])
        if ruff:
            row["ratio_to_ruff"] = round(row["seconds"] / ruff["seconds"], 2)
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
    cold, ruff = row("cold", "corpus"), ruff_row("corpus")
    if cold and ruff:
        ratio = cold["seconds"] / ruff["seconds"]
        targets.append({"target": "cold within 15x of ruff", "measured": f"{ratio:.1f}x ruff's time",
                        "met": ratio <= 15})
    warm = row("warm", "corpus")
    if warm and ruff:
        ratio = warm["seconds"] / ruff["seconds"]
        note = "" if cache_supported else " (this async-lint has no cache: warm = an uncached rerun)"
        targets.append({"target": "warm (no change) within 3x of ruff's cold time",
                        "measured": f"{ratio:.1f}x ruff's time{note}", "met": ratio <= 3})
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
    head = ["tool / mode", "files", "lines", f"seconds (median of {repeat})", "lines/s", "CPU s",
            "peak RSS MB", "RSS sum MB", "x ruff", "x flake8-async"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        seconds = "CRASH" if r["crashed"] and r["seconds"] is None else fmt(r["seconds"], ".2f")
        lines.append("| " + " | ".join([
            r["label"], str(r["files"]), f"{r['lines']:,}", seconds, fmt(r["lines_per_s"], ",d"),
            fmt(r["cpu_seconds"], ".1f"), fmt(r["peak_rss_mb"], ".0f"), fmt(r["tree_rss_mb"], ".0f"),
            fmt(r["ratio_to_ruff"], ".1f"), fmt(r["ratio_to_flake8_async"], ".3f"),
        ]) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--venv", type=Path, default=Path.home() / ".cache" / "async-lint-bench" / "venv",
                   help="scratch venv for the corpus, ruff and flake8 (default: %(default)s)")
    p.add_argument("--corpus", type=Path, help="use this folder as the corpus (its top-level entries are the "
                   "units); nothing is installed: ruff/flake8 come from --venv if it has them, else PATH")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {', '.join(TOOLS)}")
    p.add_argument("--repeat", type=int, help="timed runs per measurement (default 3, --quick 1)")
    p.add_argument("--quick", action="store_true", help=f"{' + '.join(QUICK_PACKAGES)} only, 1 repetition, "
                   f"flake8-async on {QUICK_FLAKE8_FILES} files")
    p.add_argument("--flake8-budget", type=float, default=60.0,
                   help="seconds one flake8 run may take; above that (estimated from a timed sample) it runs on "
                   "a subset (default: %(default)s)")
    p.add_argument("--flake8-subset", help="comma-separated corpus entries (packages) to run flake8-async on, "
                   "instead of sizing a subset from a timed sample (e.g. fastapi,starlette,httpx)")
    p.add_argument("--jobs", type=int, help="pass --jobs N to async-lint (default: its own default, the CPUs)")
    p.add_argument("--select", default="AL1,AL2",
                   help="async-lint rules to run (default AL1,AL2: blocking calls, coroutines and tasks, the rules "
                        "comparable to ruff's and flake8-async's ASYNC selection; ALL for everything)")
    p.add_argument("--async-lint", dest="async_lint", help="command that runs async-lint (default: "
                   "this Python's `-m async_lint`)")
    p.add_argument("--json", type=Path, help="write the results here (default: benchmarks/results.json, "
                   "benchmarks/results-quick.json with --quick)")
    p.add_argument("--workdir", type=Path, help="where to put the corpus copies (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the corpus copies")
    args = p.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOLS)
    if unknown or not args.tools:
        p.error(f"--tools: unknown {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    if args.flake8_subset is not None:
        args.flake8_subset = [n.strip() for n in args.flake8_subset.split(",") if n.strip()]
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        p.error("--repeat must be 1 or more")
    if args.json is None:
        args.json = HERE / ("results-quick.json" if args.quick else "results.json")
    return args


def tool_command(name: str, venv: Path, corpus_mode: bool) -> list[str]:
    exe = venv_bin(venv, name)
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name) if corpus_mode else None
    if found:
        return [found]
    raise SetupError(f"{name} not found in {venv}" + (" nor on PATH" if corpus_mode else ""))


def tool_version(argv: list[str]) -> str:
    done = capture(argv + ["--version"])
    return " ".join((done.stdout or done.stderr).split())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return benchmark(args)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def benchmark(args: argparse.Namespace) -> int:
    tools = args.tools
    corpus_mode = args.corpus is not None

    # 1. The corpus source and the tools.
    if corpus_mode:
        source = args.corpus.resolve()
        if not source.is_dir():
            raise SetupError(f"--corpus {source} is not a folder")
        names = sorted(e.name for e in source.iterdir()
                       if (e.is_dir() and e.name not in SKIP_DIRS and not e.name.startswith("."))
                       or (e.is_file() and e.suffix == ".py"))
        units_src = {name: source / name for name in names}
        corpus_desc = {"source": str(source), "packages": None}
    else:
        packages = QUICK_PACKAGES if args.quick else tuple(CORPUS_PINS)
        pins = {name: CORPUS_PINS[name] for name in packages}
        if "ruff" in tools:
            pins["ruff"] = TOOL_PINS["ruff"]
        if "flake8-async" in tools:
            pins.update({"flake8": TOOL_PINS["flake8"], "flake8-async": TOOL_PINS["flake8-async"]})
        ensure_venv(args.venv, pins)
        purelib = site_packages(args.venv)
        units_src = {PACKAGE_DIRS[name]: purelib / PACKAGE_DIRS[name] for name in packages}
        corpus_desc = {"source": str(purelib), "packages": {name: CORPUS_PINS[name] for name in packages}}

    al_cmd = shlex.split(args.async_lint) if args.async_lint else [sys.executable, "-m", "async_lint"]
    commands: dict[str, list[str]] = {}
    versions: dict[str, str] = {}
    cache_supported = False
    if "async-lint" in tools:
        help_text = capture(al_cmd + ["check", "--help"])
        if help_text.returncode != 0:
            raise SetupError(f"`{shlex.join(al_cmd)} check --help` failed:\n{help_text.stderr}")
        cache_supported = "--no-cache" in help_text.stdout
        versions["async-lint"] = tool_version(al_cmd)
        commands["async-lint"] = al_cmd + ["check", "--output-format", "concise", "--select", args.select]
        if args.jobs:
            commands["async-lint"] += ["--jobs", str(args.jobs)]
        log(f"{versions['async-lint']}; cache: " + ("--no-cache supported" if cache_supported else
                                                    f"no --no-cache flag, cold runs delete {CACHE_DIR}/"))
    if "ruff" in tools:
        ruff = tool_command("ruff", args.venv, corpus_mode)
        versions["ruff"] = tool_version(ruff)
        commands["ruff"] = ruff + ["check", "--select", "ASYNC", "--no-cache", "--output-format", "concise"]
    if "flake8-async" in tools:
        flake8 = tool_command("flake8", args.venv, corpus_mode)
        versions["flake8-async"] = tool_version(flake8)
        if "flake8-async" not in versions["flake8-async"]:
            raise SetupError(f"flake8 has no flake8-async plugin: {versions['flake8-async']}")
        commands["flake8-async"] = flake8 + ["--select", "ASYNC"]

    # 2. Copies: one per async-lint mode so their caches never meet; ruff and flake8 use the cold one.
    workdir = Path(tempfile.mkdtemp(prefix="async-lint-bench-", dir=args.workdir))
    try:
        return measure(args, tools, units_src, corpus_desc, workdir, commands, versions, cache_supported)
    finally:
        if args.keep:
            log(f"corpus copies kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def measure(args, tools, units_src, corpus_desc, workdir, commands, versions, cache_supported) -> int:
    modes = ["cold", "warm", "touched"] if "async-lint" in tools else []
    copies = {name: workdir / name for name in (["cold"] + modes[1:])}
    for name, path in copies.items():
        make_corpus_copy(units_src, path)
    cold_dir = copies["cold"]
    units = [u for u in scan(cold_dir, list(units_src)) if u.files]
    all_files = [f for u in units for f in u.files]
    if not all_files:
        raise SetupError("the corpus has no .py files")
    lines_of = {f: count_lines(cold_dir / f) for f in all_files}
    total_lines = sum(lines_of.values())
    log(f"corpus: {len(all_files)} files, {total_lines:,} lines in {', '.join(u.name for u in units)}")

    measurements: list[Measurement] = []
    crashes: list[str] = []

    def cold_prep(root: Path):
        def prep(rep: int) -> None:
            if not cache_supported:
                shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
        return prep

    # 3. The plan.
    subset = None
    if "flake8-async" in tools:
        if args.flake8_subset:
            chosen = [u for u in units if u.name in args.flake8_subset]
            missing = set(args.flake8_subset) - {u.name for u in chosen}
            if missing:
                raise SetupError(f"--flake8-subset: not in the corpus: {', '.join(sorted(missing))}")
            subset = {"paths": [u.name for u in chosen], "files": sum(len(u.files) for u in chosen),
                      "lines": sum(u.lines for u in chosen), "estimate": None,
                      "is_corpus": len(chosen) == len(units),
                      "description": "the packages " + ", ".join(u.name for u in chosen),
                      "why": "chosen with --flake8-subset"}
        elif args.quick:
            subset = fixed_file_subset(units, lines_of, QUICK_FLAKE8_FILES)
        else:
            subset = estimate_and_pick_subset(units, lines_of, commands["flake8-async"], cold_dir,
                                              args.flake8_budget)
        log(f"flake8-async runs on {subset['description']}: {subset['files']} files, {subset['lines']:,} lines")

    if "async-lint" in tools:
        al = commands["async-lint"]
        cold_argv = al + (["--no-cache"] if cache_supported else [])
        measurements.append(Measurement("async-lint", "cold", "corpus", cold_argv + ["."], cold_dir,
                                        len(all_files), total_lines, cold_prep(cold_dir)))
        measurements.append(Measurement("async-lint", "warm", "corpus", al + ["."], copies["warm"],
                                        len(all_files), total_lines))
        touched = spread(all_files, max(1, round(len(all_files) * TOUCH_FRACTION)))

        def touch(rep: int, root: Path = copies["touched"], files: list[str] = touched) -> None:
            for rel in files:
                path = root / rel
                data = path.read_bytes()
                with open(path, "ab") as fh:
                    fh.write((b"" if not data or data.endswith(b"\n") else b"\n")
                             + f"# async-lint-bench: touched before timed run {rep + 1}\n".encode())

        measurements.append(Measurement("async-lint", "touched", "corpus", al + ["."], copies["touched"],
                                        len(all_files), total_lines, touch))
    if "ruff" in tools:
        measurements.append(Measurement("ruff", "cold", "corpus", commands["ruff"] + ["."], cold_dir,
                                        len(all_files), total_lines))
    if subset is not None:
        scope = "corpus" if subset["is_corpus"] else "subset"
        if scope == "subset":
            if "async-lint" in tools:
                measurements.append(Measurement("async-lint", "cold", "subset", cold_argv + subset["paths"],
                                                cold_dir, subset["files"], subset["lines"], cold_prep(cold_dir)))
            if "ruff" in tools:
                measurements.append(Measurement("ruff", "cold", "subset", commands["ruff"] + subset["paths"],
                                                cold_dir, subset["files"], subset["lines"]))
        measurements.append(Measurement("flake8-async", "cold", scope, commands["flake8-async"] + subset["paths"],
                                        cold_dir, subset["files"], subset["lines"]))

    # 4. Fill the caches of the warm modes (untimed), then time, round-robin within each repetition.
    load_before = load_average()
    if load_before and load_before[0] > 1:
        log(f"warning: load average {load_before[0]:.1f} before timing: other processes compete for the "
            f"{os.cpu_count()} CPUs, so wall times come out inflated (CPU s is less affected)")
    for m in measurements:
        if m.mode in ("warm", "touched"):
            log(f"filling the cache: {m.label}")
            fill = run_measured(m.argv, m.cwd)
            if fill.crashed:
                crashes.append(f"{m.label} (cache fill): exit {fill.exit_code}\n{fill.stderr[-3000:]}")
    for rep in range(args.repeat):
        for m in measurements:
            if m.before_each:
                m.before_each(rep)
            run = run_measured(m.argv, m.cwd)
            m.runs.append(run)
            status = f"CRASH (exit {run.exit_code})" if run.crashed else f"exit {run.exit_code}"
            log(f"run {rep + 1}/{args.repeat} {m.label}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB, {status}")
            if run.crashed:
                crashes.append(f"{m.label} (run {rep + 1}): exit {run.exit_code}\n{run.stderr[-3000:]}")
            elif m.tool == "async-lint":
                seen = re.findall(r"(?:\bin |\()(\d+) files?\b", run.stdout)
                if seen and int(seen[-1]) != m.files:
                    log(f"warning: async-lint linted {seen[-1]} files, the corpus has {m.files}")

    load_after = load_average()

    # 5. Report.
    rows = [summarize(m) for m in measurements]
    add_ratios(rows)
    targets = evaluate_targets(rows, cache_supported)
    table = markdown_table(rows, args.repeat)
    result = {
        "meta": {
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "python": platform.python_version(),
                        "cpus": os.cpu_count(), "load_average_before": load_before,
                        "load_average_after": load_after},
            "versions": versions,
            "corpus": {**corpus_desc, "units": [u.name for u in units], "files": len(all_files),
                       "lines": total_lines},
            "flake8_subset": subset,
            "repeat": args.repeat,
            "quick": args.quick,
            "cache_supported": cache_supported,
            "touched_files": max(1, round(len(all_files) * TOUCH_FRACTION)) if "async-lint" in tools else None,
        },
        "rows": rows,
        "targets": targets,
        "crashes": crashes,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(table)
    print()
    if subset is not None and not subset["is_corpus"]:
        print(f"[subset] = {subset['description']} ({subset['files']} files, {subset['lines']:,} lines): "
              f"{subset['why']}; nothing is extrapolated.")
    if not cache_supported and "async-lint" in tools:
        print("note: this async-lint has no cache (no --no-cache flag): warm rows are uncached reruns.")
    if load_before and load_after and max(load_before[0], load_after[0]) > 1:
        print(f"note: load average {load_before[0]:.1f} before / {load_after[0]:.1f} after timing on "
              f"{os.cpu_count()} CPUs: other processes were running, wall times are inflated.")
    print("peak RSS = largest single process (os.wait4); RSS sum = whole process tree, sampled every 50 ms.")
    print("x ruff / x flake8-async = async-lint's time as a multiple of theirs on the same files.")
    for t in targets:
        print(f"target: {t['target']}: {t['measured']} -> {'met' if t['met'] else 'NOT met'}")
    print(f"results written to {args.json}")
    if crashes:
        for crash in crashes:
            print(f"CRASH: {crash}", file=sys.stderr)
        print(f"error: {len(crashes)} crashed run(s); their figures are left out", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
