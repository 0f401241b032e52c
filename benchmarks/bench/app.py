"""The real application: open-webui's wheel (its .py files, nothing installed: no torch), timed cold, warm and as
a pre-commit run on a few changed files, with async-lint's default rules."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from .common import SetupError, log
from .plan import Measurement, spread
from .procs import capture
from .setup import copy_python_tree, count_lines

APP_PIN = ("open-webui", "0.12.4")
APP_PACKAGE = "open_webui"  # the folder of the wheel that holds the source
PRECOMMIT_FILES = 5


def _cache_dir() -> Path:
    return Path.home() / ".cache" / "async-lint-bench" / "apps" / f"{APP_PIN[0]}-{APP_PIN[1]}"


def fetch_app() -> Path:
    """The .py files of the pinned wheel, unpacked once into ~/.cache/async-lint-bench/apps/ (`pip download`,
    no dependencies, no install)."""
    target = _cache_dir()
    if (target / ".complete").exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        log(f"downloading {APP_PIN[0]}=={APP_PIN[1]} (wheel only, no dependencies)")
        done = capture([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                        "--only-binary", ":all:", "-d", tmp, f"{APP_PIN[0]}=={APP_PIN[1]}"])
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise SetupError(f"pip download {APP_PIN[0]}=={APP_PIN[1]} failed (use --app DIR or --no-app):\n"
                             f"{done.stdout}{done.stderr}")
        shutil.rmtree(target, ignore_errors=True)
        with zipfile.ZipFile(wheels[0]) as wheel:
            for name in wheel.namelist():
                if name.endswith(".py") and name.startswith(APP_PACKAGE + "/") and ".." not in name.split("/"):
                    out = target / name
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(wheel.read(name))
    (target / ".complete").write_text("")
    return target


def app_source(args: argparse.Namespace, corpus_mode: bool) -> tuple[str, Path] | None:
    """(name, folder) of the application to time, or None: `--app DIR`, else the pinned wheel unless --no-app,
    --corpus or --quick."""
    if args.app is not None:
        if not args.app.is_dir():
            raise SetupError(f"--app {args.app} is not a folder")
        return args.app.resolve().name, args.app.resolve()
    if args.no_app or corpus_mode or args.quick or "async-lint" not in args.tools:
        return None
    return f"{APP_PIN[0]} {APP_PIN[1]}", fetch_app()


def add_app_measurements(measurements: list[Measurement], app: tuple[str, Path], root: Path, tools: list[str],
                         commands: dict[str, list[str]], cache_supported: bool) -> dict:
    """Rows for the application: cold, warm and pre-commit with the default rules, and ruff cold. Each async-lint
    mode has its own copy (caches never mix)."""
    name, source = app
    copies = {mode: root / mode for mode in ("cold", "warm", "precommit")}
    for path in copies.values():
        path.mkdir(parents=True)
        copy_python_tree(source, path / source.name)
        (path / "pyproject.toml").write_text("[tool.async-lint]\n", encoding="utf-8")
    files = sorted(p.relative_to(copies["cold"]).as_posix() for p in copies["cold"].rglob("*.py"))
    if not files:
        raise SetupError(f"the application {source} has no .py files")
    lines = sum(count_lines(copies["cold"] / f) for f in files)
    log(f"application: {name}, {len(files)} files, {lines:,} lines")
    changed = spread(files, min(PRECOMMIT_FILES, len(files)))
    if "async-lint" in tools:
        al = commands["async-lint-default"]
        cold = al + (["--no-cache"] if cache_supported else [])

        def clear(rep: int, path: Path = copies["cold"]) -> None:
            if not cache_supported:
                shutil.rmtree(path / ".async_lint_cache", ignore_errors=True)

        def change(rep: int, path: Path = copies["precommit"]) -> None:
            for rel in changed:
                data = (path / rel).read_bytes()
                with open(path / rel, "ab") as fh:
                    fh.write((b"" if not data or data.endswith(b"\n") else b"\n")
                             + f"# async-lint-bench: changed before pre-commit run {rep + 1}\n".encode())

        measurements.append(Measurement("async-lint", "cold-default", "app", cold + ["."], copies["cold"],
                                        len(files), lines, clear))
        measurements.append(Measurement("async-lint", "warm", "app", al + ["."], copies["warm"], len(files), lines))
        changed_lines = sum(count_lines(copies["cold"] / f) for f in changed)
        measurements.append(Measurement("async-lint", "precommit", "app", al + changed, copies["precommit"],
                                        len(changed), changed_lines, change, fill_argv=al + ["."]))
    if "ruff" in tools:
        measurements.append(Measurement("ruff", "cold", "app", commands["ruff"] + ["."], copies["cold"],
                                        len(files), lines))
    return {"name": name, "source": str(source), "files": len(files), "lines": lines, "changed": changed}
