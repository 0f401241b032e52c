"""The command line and the measuring loop."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from .app import APP_PIN, PRECOMMIT_FILES, add_app_measurements, app_source
from .common import (CACHE_DIR, CORPUS_PINS, HERE, PACKAGE_DIRS, QUICK_FLAKE8_FILES, QUICK_PACKAGES, SKIP_DIRS,
                     TOOL_PINS, TOOLS, TOUCH_FRACTION, SetupError, log)
from .plan import Measurement, estimate_and_pick_subset, fixed_file_subset, spread
from .procs import capture, load_average, run_measured
from .report import add_ratios, evaluate_targets, markdown_table, summarize
from .setup import count_lines, ensure_venv, make_corpus_copy, scan, site_packages, venv_bin


DESCRIPTION = "Benchmark async-lint against ruff (ASYNC rules) and flake8 + flake8-async on real FastAPI-stack code."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter)
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
    p.add_argument("--app", type=Path, help=f"folder of the real application to time (default: "
                   f"{APP_PIN[0]}=={APP_PIN[1]}'s wheel from PyPI, .py files only, nothing installed)")
    p.add_argument("--no-app", action="store_true", help="skip the application rows (implied by --corpus "
                   "and --quick unless --app is given)")
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


def compile_bytecode() -> None:
    """async-lint as users have it: pip compiles an installed package's modules at install time, and Python
    caches them on first import. A checkout run with PYTHONDONTWRITEBYTECODE=1 (or an editable install in a
    read-only tree) would instead compile its ~60 modules in every timed process: 0.1 s of a 0.5 s pre-commit
    run. Written next to the sources (`__pycache__/`, ignored by git); nothing is written if the tree is
    read-only."""
    import compileall

    import async_lint

    package = Path(async_lint.__file__).resolve().parent
    if compileall.compile_dir(str(package), quiet=1, force=False):
        log(f"bytecode of {package} is compiled (as an installed package's is)")


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
    if not args.async_lint and "async-lint" in tools:
        compile_bytecode()
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
        commands["async-lint-default"] = al_cmd + ["check", "--output-format", "concise"]  # the default rules
        if args.jobs:
            commands["async-lint"] += ["--jobs", str(args.jobs)]
            commands["async-lint-default"] += ["--jobs", str(args.jobs)]
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

    app = app_source(args, corpus_mode)  # (name, folder) or None

    # 2. Copies: one per async-lint mode so their caches never meet; ruff and flake8 use the cold one.
    workdir = Path(tempfile.mkdtemp(prefix="async-lint-bench-", dir=args.workdir))
    try:
        return measure(args, tools, units_src, corpus_desc, workdir, commands, versions, cache_supported, app)
    finally:
        if args.keep:
            log(f"corpus copies kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def measure(args, tools, units_src, corpus_desc, workdir, commands, versions, cache_supported, app) -> int:
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
        default_cold = commands["async-lint-default"] + (["--no-cache"] if cache_supported else [])
        measurements.append(Measurement("async-lint", "cold-default", "corpus", default_cold + ["."], cold_dir,
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

    app_meta = None
    if app is not None:
        app_meta = add_app_measurements(measurements, app, workdir / "app", tools, commands, cache_supported)

    # 4. Fill the caches of the warm modes (untimed), then time, round-robin within each repetition.
    load_before = load_average()
    if load_before and load_before[0] > 1:
        log(f"warning: load average {load_before[0]:.1f} before timing: other processes compete for the "
            f"{os.cpu_count()} CPUs, so wall times come out inflated (CPU s is less affected)")
    for m in measurements:
        if m.mode in ("warm", "touched", "precommit"):
            log(f"filling the cache: {m.label}")
            fill = run_measured(m.fill_argv or m.argv, m.cwd)
            if fill.crashed:
                crashes.append(f"{m.label} (cache fill): exit {fill.exit_code}\n{fill.stderr[-3000:]}")
    for rep in range(args.repeat):
        for m in measurements:
            if m.before_each:
                m.before_each(rep)
            run = run_measured(m.argv, m.cwd)
            m.runs.append(run)
            status = f"CRASH (exit {run.exit_code})" if run.crashed else f"exit {run.exit_code}"
            log(f"run {rep + 1}/{args.repeat} {m.label}: {run.seconds:.2f} s wall, {run.cpu_seconds:.2f} s CPU, "
                f"{run.peak_rss_mb:.0f} MB, {status}")
            if run.crashed:
                crashes.append(f"{m.label} (run {rep + 1}): exit {run.exit_code}\n{run.stderr[-3000:]}")
            elif m.tool == "async-lint" and m.mode != "precommit":
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
            "app": app_meta,
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
    print("x ruff / x flake8-async = async-lint's time as a multiple of theirs on the same files (wall time; "
          "CPU x ruff: CPU seconds, what to compare on a loaded machine).")
    if app_meta:
        print(f"[app] = {app_meta['name']} ({app_meta['files']} files, {app_meta['lines']:,} lines), default rules; "
              f"pre-commit = a comment appended to {PRECOMMIT_FILES} files, `check` on those paths, warm cache.")
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
