"""Recall of missing-await detection: async-lint AL201 versus pyright's reportUnusedCoroutine.

Both tools run on the same fixtures (tests/fixtures/AL201.py and the multi-file package under
tests/fixtures/project), with no third-party dependency installed, as a user's pre-commit would. The ground
truth is the `# error: AL201` comments. Usage:

    npm install pyright            # or have `pyright` on PATH
    python scripts/pyright_recall.py [--pyright PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import expectations, settings_for  # noqa: E402

from async_lint.runner import lint_paths  # noqa: E402

FIXTURES = [ROOT / "tests/fixtures/AL201.py", *sorted((ROOT / "tests/fixtures/project").rglob("*.py"))]


def truth() -> set[tuple[str, int]]:
    return {(str(p), row) for p in FIXTURES for row, code in expectations(p) if code == "AL201"}


def ours() -> set[tuple[str, int]]:
    results = lint_paths([str(p) for p in FIXTURES], settings_for("AL201", root=ROOT / "tests/fixtures"), jobs=1)
    return {(str(Path(f.path).resolve()), f.row) for r in results for f in r.findings if f.code == "AL201"}


def pyright(binary: str) -> set[tuple[str, int]]:
    """Run pyright on a copy of the fixtures (its own project, nothing installed) and map paths back."""
    with tempfile.TemporaryDirectory() as tmp:
        copies = {}
        for path in FIXTURES:
            rel = path.relative_to(ROOT / "tests/fixtures")
            target = Path(tmp) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            copies[str(target.resolve())] = str(path)
        (Path(tmp) / "pyrightconfig.json").write_text(json.dumps({
            "reportUnusedCoroutine": "error",
            "extraPaths": ["project"],
        }))
        proc = subprocess.run([binary, "--outputjson", "."], capture_output=True, text=True, cwd=tmp)
        report = json.loads(proc.stdout)
        return {
            (copies[str(Path(d["file"]).resolve())], d["range"]["start"]["line"] + 1)
            for d in report["generalDiagnostics"]
            if d.get("rule") == "reportUnusedCoroutine"
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyright", default=shutil.which("pyright") or "node_modules/.bin/pyright")
    args = parser.parse_args()
    expected = truth()
    found_ours = ours() & expected
    found_pyright = pyright(args.pyright) & expected
    print(f"missing awaits in the fixtures: {len(expected)}")
    print(f"async-lint AL201:                 {len(found_ours)} found, recall {len(found_ours) / len(expected):.0%}")
    print(f"pyright reportUnusedCoroutine:    {len(found_pyright)} found, recall "
          f"{len(found_pyright) / len(expected):.0%}")
    missed = sorted(expected - found_ours)
    if missed:
        print("missed by async-lint:", missed)
    return 0 if len(found_ours) >= len(found_pyright) else 1


if __name__ == "__main__":
    sys.exit(main())
