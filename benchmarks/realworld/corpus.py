"""The real-world corpus: fetch pinned PyPI packages, lint them with the installed async-lint, triage the findings.

    python benchmarks/realworld/corpus.py fetch                      # download + unpack packages.toml
    python benchmarks/realworld/corpus.py lint [--seed 7 --sample 120] [--select AL1 --preview ...]
    python benchmarks/realworld/corpus.py summary | sample | report | show PKG/VER/PATH:LINE | label ...

The corpus lives outside the repository: --dir, else $ASYNC_LINT_CORPUS, else ~/.cache/async-lint-corpus.
See benchmarks/realworld/README.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import triage  # noqa: E402

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PINS = HERE / "packages.toml"
LABELS = HERE / "labels.csv"
MARKER = ".corpus-pin.json"  # written last into each unpacked folder: its presence means "complete"
RESULTS = "findings.json"


def results_path(root: Path) -> Path:
    """Where `lint` writes and the other commands read: $ASYNC_LINT_CORPUS_RESULTS, else DIR/findings.json.

    Two people linting the one shared corpus folder with different options each point this at their own file."""
    env = os.environ.get("ASYNC_LINT_CORPUS_RESULTS")
    return Path(env).expanduser() if env else root / RESULTS


KEEP_NAMES = {"pyproject.toml", ".gitignore"}  # besides .py/.pyi: the files async-lint itself reads
KEEP_SUFFIXES = {".py", ".pyi"}


def corpus_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("ASYNC_LINT_CORPUS") or "~/.cache/async-lint-corpus").expanduser()


def load_pins(path: Path | None = None) -> list[dict]:
    path = path or PINS
    pins = tomllib.loads(path.read_text(encoding="utf-8")).get("package", [])
    for pin in pins:
        pin.setdefault("kind", "wheel")
        if pin["kind"] not in ("wheel", "sdist"):
            raise SystemExit(f"{path}: {pin['name']}: kind must be wheel or sdist")
    return pins


def selected(pins: list[dict], only: list[str] | None) -> list[dict]:
    if not only:
        return pins
    unknown = set(only) - {p["name"] for p in pins}
    if unknown:
        raise SystemExit(f"not in {PINS.name}: {', '.join(sorted(unknown))}")
    return [p for p in pins if p["name"] in only]


def folder_of(root: Path, name: str, version: str) -> Path:
    return root / f"{name}-{version}"


# --- fetch ---------------------------------------------------------------------------------------------------

def _safe_member(name: str, strip: int) -> PurePosixPath | None:
    parts = PurePosixPath(name).parts[strip:]
    if not parts or name.startswith("/") or ".." in parts:
        return None
    rel = PurePosixPath(*parts)
    return rel if rel.suffix in KEEP_SUFFIXES or rel.name in KEEP_NAMES else None


def unpack(archive: Path, dest: Path) -> int:
    """The .py/.pyi files (and pyproject.toml/.gitignore) of a wheel, zip or tarball into dest; an sdist's single
    top folder is stripped so paths read as in the project's repository. Links and escaping names are skipped."""
    count = 0
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
            strip = 1 if archive.suffix == ".zip" and len({n.split("/")[0] for n in names}) == 1 else 0
            for info in z.infolist():
                rel = None if info.is_dir() else _safe_member(info.filename, strip)
                if rel is not None:
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    (dest / rel).write_bytes(z.read(info))
                    count += 1
        return count
    with tarfile.open(archive) as t:
        members = [m for m in t.getmembers() if m.isfile()]
        strip = 1 if len({m.name.split("/")[0] for m in members}) == 1 else 0
        for member in members:
            rel = _safe_member(member.name, strip)
            handle = t.extractfile(member) if rel is not None else None
            if handle is not None:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_bytes(handle.read())
                count += 1
    return count


def download(pin: dict, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    existing = [p for p in into.iterdir() if p.is_file()]
    if existing:
        return existing[0]
    binary = "--only-binary" if pin["kind"] == "wheel" else "--no-binary"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", binary, ":all:", "-q", "--disable-pip-version-check",
           f"{pin['name']}=={pin['version']}", "-d", str(into)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    files = [p for p in into.iterdir() if p.is_file()]
    if done.returncode != 0 or len(files) != 1:
        tail = "\n".join(line for line in done.stderr.splitlines() if "is ignored" not in line)[-1500:]
        raise RuntimeError(f"pip download {pin['name']}=={pin['version']} ({pin['kind']}) failed:\n{tail}")
    return files[0]


def cmd_fetch(args) -> int:
    root = corpus_dir(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    failed = 0
    started = time.monotonic()
    print(f"corpus folder: {root}")
    print(f"{'package':28} {'version':12} {'kind':6} {'MB':>6} {'files':>6} {'download s':>10} {'unpack s':>8}")
    for pin in selected(load_pins(), args.only):
        target = folder_of(root, pin["name"], pin["version"])
        marker = target / MARKER
        if marker.exists() and not args.force:
            info = json.loads(marker.read_text())
            if info.get("kind") == pin["kind"]:
                print(f"{pin['name']:28} {pin['version']:12} {pin['kind']:6} {'':>6} {info['files']:6} "
                      f"{'cached':>10}")
                continue
        t0 = time.monotonic()
        try:
            archive = download(pin, root / "_downloads" / f"{pin['name']}-{pin['version']}-{pin['kind']}")
        except RuntimeError as error:
            print(error, file=sys.stderr)
            failed += 1
            continue
        t1 = time.monotonic()
        partial = root / f".{target.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        files = unpack(archive, partial)
        (partial / MARKER).write_text(json.dumps({
            "name": pin["name"], "version": pin["version"], "kind": pin["kind"], "archive": archive.name,
            "files": files, "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds")}) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        t2 = time.monotonic()
        print(f"{pin['name']:28} {pin['version']:12} {pin['kind']:6} {archive.stat().st_size / 1e6:6.1f} {files:6} "
              f"{t1 - t0:10.1f} {t2 - t1:8.1f}", flush=True)
    pinned = {folder_of(root, p["name"], p["version"]).name for p in load_pins()}
    for extra in sorted(p.parent.name for p in root.glob(f"*/{MARKER}") if p.parent.name not in pinned):
        print(f"not in {PINS.name} (delete it if unused): {root / extra}")
    print(f"total {time.monotonic() - started:.1f} s" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0


# --- lint ----------------------------------------------------------------------------------------------------

def async_lint_exe(arg: str | None) -> str:
    if arg:
        return arg
    beside = Path(sys.executable).parent / "async-lint"
    found = str(beside) if beside.exists() else shutil.which("async-lint")
    if not found:
        raise SystemExit("async-lint not found: install it (pip install -e .) or pass --async-lint PATH")
    return found


def count_files(folder: Path) -> int:
    """The .py/.pyi files outside hidden folders and those async-lint skips by default (gradio's sdist ships a
    venv/). An estimate of what a lint reads: the package's own excludes and .gitignore are not applied."""
    try:
        from async_lint.config import DEFAULT_EXCLUDES
    except ImportError:
        DEFAULT_EXCLUDES = ("venv", ".venv", "build", "dist", "__pycache__", "node_modules", "site-packages")
    def skipped(part: str) -> bool:
        return part.startswith(".") or any(fnmatch.fnmatch(part, pattern) for pattern in DEFAULT_EXCLUDES)
    return sum(1 for p in folder.rglob("*") if p.suffix in KEEP_SUFFIXES and p.is_file()
               and not any(skipped(part) for part in p.relative_to(folder).parts[:-1]))


def cmd_lint(args, extra: list[str]) -> int:
    root = corpus_dir(args.dir)
    exe = async_lint_exe(args.async_lint)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    flags = ["--output-format", "json", "--exit-zero", "-q"] + ([] if args.cache else ["--no-cache"]) + extra
    packages, findings, broken = [], [], 0
    started = time.monotonic()
    for pin in selected(load_pins(), args.only):
        target = folder_of(root, pin["name"], pin["version"])
        if not (target / MARKER).exists():
            print(f"skipped {target.name}: not fetched (run `corpus.py fetch`)", file=sys.stderr)
            continue
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        done = subprocess.run([exe, "check", str(target), *flags], capture_output=True, text=True, cwd=target)
        seconds = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        try:
            mine = triage.findings_from_json(pin["name"], pin["version"], target, json.loads(done.stdout or "[]"))
        except (json.JSONDecodeError, KeyError) as error:
            mine = []
            print(f"{target.name}: unreadable output ({error}): {done.stderr[-800:]}", file=sys.stderr)
            broken += 1
        if done.returncode not in (0, 1):
            print(f"{target.name}: async-lint exited {done.returncode}: {done.stderr[-800:]}", file=sys.stderr)
            broken += 1
        findings += mine
        packages.append({"package": pin["name"], "version": pin["version"], "kind": pin["kind"],
                         "files": count_files(target), "findings": len(mine), "seconds": round(seconds, 2),
                         "cpu_seconds": round(cpu, 2), "returncode": done.returncode})
        print(f"linted {target.name}: {len(mine)} findings in {seconds:.1f} s", file=sys.stderr, flush=True)
    meta = {"async_lint": version, "executable": exe, "args": flags[4:], "created":
            datetime.now(timezone.utc).isoformat(timespec="seconds"), "seconds": round(time.monotonic() - started, 1),
            "cpu_seconds": round(sum(p["cpu_seconds"] for p in packages), 1), "load_average": list(os.getloadavg())}
    if args.only:
        packages, findings = merge_previous(results_path(root), meta, packages, findings)
    triage.save_results(results_path(root), meta, packages, findings)
    print("\n".join(triage.summary_lines(meta, packages, findings)))
    print(f"\nlint took {meta['seconds']} s wall, {meta['cpu_seconds']} s CPU; results in {results_path(root)}")
    if args.sample:
        print(f"\nsample (seed {args.seed}, {args.sample} of {len(findings)}):")
        print("\n".join(f.line_text() for f in triage.sample(findings, args.seed, args.sample)))
    return 1 if broken else 0


def merge_previous(path: Path, meta: dict, packages: list[dict], findings: list) -> tuple[list[dict], list]:
    """With --only: keep the other pinned packages' results of the previous lint if it ran with the same
    async-lint and arguments, so one app can be re-linted after a change without linting them all."""
    if not path.exists():
        return packages, findings
    old_meta, old_packages, old_findings = triage.load_results(path)
    if (old_meta.get("async_lint"), old_meta.get("args")) != (meta["async_lint"], meta["args"]):
        print("previous results used other arguments or another async-lint: not merged", file=sys.stderr)
        return packages, findings
    pinned = {(p["name"], p["version"]) for p in load_pins()}
    fresh = {(p["package"], p["version"]) for p in packages}
    kept = [p for p in old_packages if (p["package"], p["version"]) in pinned - fresh]
    keys = {(p["package"], p["version"]) for p in kept}
    meta["merged_from"] = old_meta.get("created")
    order = {(p["name"], p["version"]): i for i, p in enumerate(load_pins())}
    packages = sorted(kept + packages, key=lambda p: order[(p["package"], p["version"])])
    return packages, sorted([f for f in old_findings if (f.package, f.version) in keys] + findings)


# --- triage --------------------------------------------------------------------------------------------------

def results(args):
    path = results_path(corpus_dir(args.dir))
    if not path.exists():
        raise SystemExit(f"no lint results in {path}: run `corpus.py lint` first")
    return triage.load_results(path)


def cmd_summary(args) -> int:
    meta, packages, findings = results(args)
    print("\n".join(triage.summary_lines(meta, packages, findings)))
    print(f"\nlinted {meta.get('created')}: {meta.get('seconds')} s wall, {meta.get('cpu_seconds')} s CPU")
    return 0


def cmd_sample(args) -> int:
    labels = {label.key for label in triage.load_labels(Path(args.labels))}
    findings = [f for f in results(args)[2] if f.code.startswith(tuple(args.code or ("",)))
                and not (args.unlabelled and f.key in labels)]
    print("\n".join(f.line_text() for f in triage.sample(findings, args.seed, args.sample)))
    return 0


def cmd_report(args) -> int:
    meta, packages, findings = results(args)
    report = triage.match_labels(triage.load_labels(Path(args.labels)), packages, findings)
    print(f"findings of {meta.get('async_lint')} from {meta.get('created')}, args: {' '.join(meta.get('args', []))}")
    if args.sample:  # precision over a seeded sample of the current findings (the acceptance figure)
        chosen = {f.key for f in triage.sample(findings, 7 if args.seed is None else args.seed, args.sample)}
        report.matched = [label for label in report.matched if label.key in chosen]
        report.unlabelled = [f for f in report.unlabelled if f.key in chosen]
        print(f"over a seeded sample of {len(chosen)} current findings (seed {7 if args.seed is None else args.seed}); "
              "the stale count is over all labels")
    print("\n".join(triage.report_lines(report, args.limit, args.seed, args.stale)))
    return 0


def cmd_show(args) -> int:
    root = corpus_dir(args.dir)
    package, version, path, line = triage.parse_location(args.location)
    source = folder_of(root, package, version) / path
    if not source.is_file():
        raise SystemExit(f"no such file: {source}")
    lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
    first, last = max(1, line - args.context), min(len(lines), line + args.context)
    print(f"{source}")
    for number in range(first, last + 1):
        print(f"{'>' if number == line else ' '}{number:5} {lines[number - 1]}")
    where = (package, version, path, line)
    if results_path(root).exists():
        for f in triage.load_results(results_path(root))[2]:
            if f.key[:4] == where:
                print(f"finding: {f.code} col {f.column}: {f.message}")
    for label in triage.load_labels(Path(args.labels)):
        if label.key[:4] == where:
            print(f"label: {label.code} {label.verdict}: {label.reason}")
    return 0


def cmd_label(args) -> int:
    package, version, path, line = triage.parse_location(args.location)
    label = triage.Label(package, version, path, line, args.code, args.verdict, " ".join(args.reason))
    labels_path = Path(args.labels)
    if any(existing.key == label.key for existing in triage.load_labels(labels_path)):
        raise SystemExit(f"already labelled: {label.where} {label.code} (edit {labels_path} by hand)")
    current = results_path(corpus_dir(args.dir))
    if current.exists() and label.key not in {f.key for f in triage.load_results(current)[2]}:
        print(f"warning: no current finding {label.where} {label.code}", file=sys.stderr)
    triage.append_label(labels_path, label)
    print(triage.format_label_row(label), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, labels: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, allow_abbrev=False)
        p.add_argument("--dir", help="corpus folder (default: $ASYNC_LINT_CORPUS or ~/.cache/async-lint-corpus)")
        if labels:
            p.add_argument("--labels", default=str(LABELS), help=f"labels CSV (default: {LABELS})")
        return p

    p = command("fetch", "download and unpack the pinned packages (skips those already unpacked)")
    p.add_argument("--only", action="append", help="this package only (repeatable)")
    p.add_argument("--force", action="store_true", help="unpack again even if already there")
    p = command("lint", "lint every unpacked package; unknown options go to `async-lint check`")
    p.add_argument("--only", action="append",
                   help="this package only (repeatable); the others' results of the previous lint are kept")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sample", type=int, default=0, metavar="K", help="print K seeded findings for triage")
    p.add_argument("--cache", action="store_true", help="let async-lint use its cache (default: --no-cache)")
    p.add_argument("--async-lint", help="the async-lint executable (default: the one beside this Python)")
    command("summary", "print the summary of the last lint again")
    p = command("sample", "print a seeded sample of the last lint's findings", labels=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sample", type=int, default=120, metavar="K")
    p.add_argument("--code", action="append", help="only codes starting with this (repeatable)")
    p.add_argument("--unlabelled", action="store_true", help="leave out findings that have a label")
    p = command("report", "precision per code and family over the labels; unlabelled and stale counts", labels=True)
    p.add_argument("--limit", type=int, default=20, help="unlabelled findings to list (default 20)")
    p.add_argument("--seed", type=int, help="list a seeded sample of the unlabelled findings instead of the first")
    p.add_argument("--stale", action="store_true", help="list the stale labels")
    p.add_argument("--sample", type=int, default=0, metavar="K",
                   help="precision over K current findings chosen by --seed (default 7), as `sample` chooses them")
    p = command("show", "print the code around a finding", labels=True)
    p.add_argument("location", help="package/version/path:line (a whole sample line may be pasted)")
    p.add_argument("-C", "--context", type=int, default=15)
    p = command("label", "append a label to the labels file", labels=True)
    p.add_argument("location", help="package/version/path:line")
    p.add_argument("code")
    p.add_argument("verdict", choices=triage.VERDICTS)
    p.add_argument("reason", nargs="+")
    return top


def main(argv: list[str] | None = None) -> int:
    args, extra = parser().parse_known_args(argv)
    if extra and args.command != "lint":
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "lint":
        return cmd_lint(args, [a for a in extra if a != "--"])
    return {"fetch": cmd_fetch, "summary": cmd_summary, "sample": cmd_sample, "report": cmd_report,
            "show": cmd_show, "label": cmd_label}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
