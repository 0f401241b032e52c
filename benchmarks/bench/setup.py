"""The scratch venv with the pinned corpus and tools, and the corpus copies."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .common import SKIP_DIRS, SetupError, log
from .procs import capture


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
