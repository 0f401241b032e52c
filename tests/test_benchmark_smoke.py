"""Smoke test of benchmarks/run.py on a tiny generated corpus: no network, no installs, a few seconds."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

SOURCE = '''import time


async def handler_{i}():
    time.sleep(1)


def helper_{i}(x):
    return x + {i}
'''


def load_run_module():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def make_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "pkg" / "sub").mkdir(parents=True)
    for i in range(3):
        (corpus / "pkg" / f"m{i}.py").write_text(SOURCE.format(i=i))
    (corpus / "pkg" / "sub" / "deep.py").write_text(SOURCE.format(i=9))
    (corpus / "top.py").write_text("x = 1\n")
    (corpus / "pkg" / "__pycache__").mkdir()  # skipped like the tools skip it
    (corpus / "pkg" / "__pycache__" / "junk.py").write_text("x = (\n")
    (corpus / "README.md").write_text("not python\n")
    return corpus


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=60)


def test_async_lint_rows_on_a_synthetic_corpus(tmp_path):
    corpus = make_corpus(tmp_path)
    before = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    out = tmp_path / "results.json"
    done = bench("--corpus", str(corpus), "--tools", "async-lint", "--repeat", "1", "--json", str(out),
                 "--jobs", "1", "--workdir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr

    data = json.loads(out.read_text())
    rows = data["rows"]
    assert [(r["tool"], r["mode"], r["scope"]) for r in rows] == [
        ("async-lint", "cold", "corpus"), ("async-lint", "cold-default", "corpus"), ("async-lint", "warm", "corpus"),
        ("async-lint", "touched", "corpus"),
    ]
    lines = 4 * SOURCE.count("\n") + 1
    for row in rows:
        assert row["files"] == 5
        assert row["lines"] == lines
        assert row["seconds"] > 0
        assert abs(row["lines_per_s"] - lines / row["seconds"]) <= 0.01 * row["lines_per_s"] + 1  # seconds is rounded
        assert row["cpu_seconds"] > 0
        assert row["peak_rss_mb"] > 1
        assert row["tree_rss_mb"] is None or row["tree_rss_mb"] >= row["peak_rss_mb"] * 0.9
        assert len(row["runs"]) == 1 and row["runs"][0]["exit_code"] == 1  # findings are not a failure
        assert not row["crashed"]
    assert data["meta"]["corpus"]["files"] == 5
    assert data["meta"]["touched_files"] == 1
    assert data["meta"]["app"] is None  # --corpus: no application unless --app says one
    assert data["crashes"] == []
    assert any(t["target"] == "peak RSS under 500 MB" for t in data["targets"])
    # The table is printed, and the corpus and the work folder are left as they were.
    assert "| async-lint cold (no cache) | 5 |" in done.stdout
    assert {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "results.json"]


def test_a_crash_is_reported_and_fails_the_run(tmp_path):
    corpus = make_corpus(tmp_path)
    fake = tmp_path / "fake_lint.py"
    fake.write_text(
        "import sys\n"
        "if '--version' in sys.argv: print('fake-lint 0'); sys.exit(0)\n"
        "if '--help' in sys.argv: print('Usage: check [OPTIONS] --no-cache'); sys.exit(0)\n"
        "print('Traceback (most recent call last):\\nBoom', file=sys.stderr); sys.exit(2)\n"
    )
    out = tmp_path / "results.json"
    done = bench("--corpus", str(corpus), "--tools", "async-lint", "--repeat", "1", "--json", str(out),
                 "--async-lint", shlex.join([sys.executable, str(fake)]))
    assert done.returncode == 1
    assert "CRASH" in done.stderr and "exit 2" in done.stderr
    data = json.loads(out.read_text())
    assert data["meta"]["cache_supported"] is True
    assert "--no-cache" in data["rows"][0]["command"]
    assert all(r["crashed"] and r["seconds"] is None for r in data["rows"])
    assert "CRASH" in done.stdout


def test_ratios_and_targets():
    run = load_run_module()

    def row(tool, mode, scope, seconds, rss=100.0):
        return {"label": f"{tool} {mode} {scope}", "tool": tool, "mode": mode, "scope": scope, "files": 10,
                "lines": 1000, "seconds": seconds, "lines_per_s": round(1000 / seconds), "cpu_seconds": seconds,
                "peak_rss_mb": rss, "tree_rss_mb": rss * 2, "crashed": False, "ratio_to_ruff": None,
                "ratio_to_flake8_async": None}

    rows = [row("async-lint", "cold", "corpus", 2.0), row("async-lint", "warm", "corpus", 0.2),
            row("ruff", "cold", "corpus", 0.1), row("async-lint", "cold", "subset", 0.5),
            row("ruff", "cold", "subset", 0.05), row("flake8-async", "cold", "subset", 20.0, rss=50)]
    run.add_ratios(rows)
    assert rows[0]["ratio_to_ruff"] == 20.0 and rows[0]["ratio_to_flake8_async"] is None
    assert rows[1]["ratio_to_ruff"] == 2.0
    assert rows[3]["ratio_to_ruff"] == 10.0 and rows[3]["ratio_to_flake8_async"] == 0.025
    assert rows[0]["cpu_ratio_to_ruff"] == 20.0
    rows.append(row("async-lint", "precommit", "app", 0.25))
    run.add_ratios(rows)
    assert rows[-1]["ratio_to_ruff"] is None  # a few files against ruff's whole scope: no ratio
    targets = {t["target"]: t for t in run.evaluate_targets(rows, cache_supported=True)}
    assert targets["cold >= 30x faster than flake8 + flake8-async (same files)"]["met"] is True  # 40x
    assert targets["cold within 30x of ruff (CPU seconds)"]["met"] is True  # 20x
    assert targets["warm (no change) within 3x of ruff (CPU seconds)"]["met"] is True
    assert targets["warm pre-commit run on 5 changed files within 0.3 s (wall)"]["met"] is True
    assert targets["peak RSS under 500 MB"]["met"] is True
    assert "cold with the default rules within 40x of ruff (CPU seconds)" not in targets  # no such row
    table = run.markdown_table(rows, 3)
    assert table.count("\n") == len(rows) + 1
    assert "| flake8-async cold subset | 10 | 1,000 | 20.00 |" in table


def test_application_rows_cold_warm_and_precommit(tmp_path):
    corpus = make_corpus(tmp_path)
    app = tmp_path / "app"
    (app / "svc").mkdir(parents=True)
    for i in range(7):
        (app / "svc" / f"r{i}.py").write_text(SOURCE.format(i=i))
    before = {p: p.read_bytes() for p in app.rglob("*") if p.is_file()}
    out = tmp_path / "results.json"
    done = bench("--corpus", str(corpus), "--app", str(app), "--tools", "async-lint", "--repeat", "1",
                 "--json", str(out), "--jobs", "1", "--workdir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(out.read_text())
    app_rows = [r for r in data["rows"] if r["scope"] == "app"]
    assert [(r["mode"], r["files"]) for r in app_rows] == [("cold-default", 7), ("warm", 7), ("precommit", 5)]
    assert all(not r["crashed"] and r["cpu_seconds"] > 0 for r in app_rows)
    assert "--select" not in app_rows[0]["command"]  # the default rules
    assert data["meta"]["app"]["files"] == 7 and len(data["meta"]["app"]["changed"]) == 5
    assert any(t["target"].startswith("warm pre-commit run") for t in data["targets"])
    assert "pre-commit on 5 changed files [app]" in done.stdout
    assert {p: p.read_bytes() for p in app.rglob("*") if p.is_file()} == before  # copies are changed, not the app
