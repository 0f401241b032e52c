#!/usr/bin/env python3
"""Benchmark async-lint against ruff (ASYNC rules) and flake8 + flake8-async on real FastAPI-stack code.

    python benchmarks/run.py                 # full: pinned packages from PyPI, a real application, 3 repetitions
    python benchmarks/run.py --quick         # httpx + starlette, 1 repetition, flake8 on 10 files
    python benchmarks/run.py --corpus DIR --tools async-lint --repeat 1   # no installs, an existing folder

The corpus is the pure-Python source of pinned releases installed into a scratch venv (default
~/.cache/async-lint-bench/venv, reused when its versions match). Only `.py` files are copied, into temporary
folders (one per mode, so caches never mix), leaving out folders that any of the tools skips by default, so every
tool sees exactly the same files. The venv and a `--corpus` folder are never modified.

Modes of async-lint on the corpus: cold (no cache, `--select`, default AL1,AL2), cold with the default rules,
warm (cache filled by an untimed run, nothing changed), touched (warm, then a comment line appended to 1% of the
files before each timed run). The application (open-webui's wheel, `--app DIR` for another folder) is timed cold,
warm and as a pre-commit run: a comment appended to 5 files, `check` on those 5 paths with a warm cache. Runs are
interleaved: each repetition runs every measurement once, round-robin. Each run's wall time comes from
perf_counter; its CPU time and peak RSS from `os.wait4` (the largest single process of the tree: Linux reports the
max over the child and its reaped descendants); a sampler also sums the RSS of the whole process tree (workers
included) every 50 ms.

Linter exit codes 0 and 1 (findings) are fine; any other exit code, or a traceback on stderr, is a crash: it is
reported and the script exits 1. Setup problems (install failed, tool missing) exit 2.

Standard library only (async-lint itself runs from this interpreter unless `--async-lint CMD` says otherwise).
The code is in benchmarks/bench/.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.main import main, parse_args  # noqa: E402
from bench.report import add_ratios, evaluate_targets, markdown_table, summarize  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(main())
