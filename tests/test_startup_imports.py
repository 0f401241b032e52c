"""Start-up cost: `--version` and a fully cached run import neither libcst, rich nor pathspec (nor xml, which
only the JUnit output needs).

Each case runs the CLI in a fresh interpreter (stdout a pipe, as in CI and pre-commit) and lists the heavy modules
left in sys.modules when the command exits.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("libcst", "rich", "pathspec", "xml")

_PROBE = textwrap.dedent("""
    import json, sys
    from async_lint.cli import cli
    try:
        cli(args=sys.argv[1:], prog_name="async-lint")
    except SystemExit:
        pass
    heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.stdin.readline())))
    sys.stdout.write("\\nHEAVY=" + json.dumps(heavy) + "\\n")
""")


def _heavy_imports(args: list[str], cwd: Path) -> tuple[list[str], str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, input=json.dumps(HEAVY) + "\n",
                          capture_output=True, text=True, env=env, timeout=120)
    marker = proc.stdout.rindex("HEAVY=")
    return json.loads(proc.stdout[marker + len("HEAVY="):]), proc.stdout[:marker]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text("import time\n\n\nasync def handler():\n    time.sleep(1)\n")
    (tmp_path / "util.py").write_text("def helper():\n    return 1\n")
    return tmp_path


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    heavy, out = _heavy_imports(["--version"], tmp_path)
    assert "async-lint" in out
    assert heavy == []


@pytest.mark.parametrize("fmt", ["concise", "json", "full", "github"])
def test_cached_run_imports_nothing_heavy(project: Path, fmt: str) -> None:
    first, first_out = _heavy_imports(["check", ".", "--output-format", fmt], project)
    assert "libcst" in first  # the cold run parses
    heavy, out = _heavy_imports(["check", ".", "--output-format", fmt], project)
    assert re.sub(r"\d+\.\d s", "", out) == re.sub(r"\d+\.\d s", "", first_out)  # the same, but the time
    assert "AL101" in out
    assert heavy == []


def test_plain_output_is_what_rich_prints(project: Path) -> None:
    """The plain console (no terminal) prints exactly what rich's console printed, markup removed."""
    from rich.console import Console

    from async_lint.console import PlainConsole, escape

    samples = ["a.py:100:5: [bold red]AL101[/] [*] `x[0]` and \\[literal] :smile: end\\",
               f"[bold]{escape('p[a]th.py:1:2')}:[/] [bold red]AL201[/] {escape('msg [x] with [/] ends in ' + chr(92))}",
               "[blue]  |[/] [bold red]^^^^[/] [bold red]AL101[/]"]
    import io

    for sample in samples:
        rich_out = io.StringIO()
        Console(file=rich_out, highlight=False, soft_wrap=True, emoji=False).print(sample)
        plain_out = io.StringIO()
        plain = PlainConsole()
        sys_stdout, sys.stdout = sys.stdout, plain_out
        try:
            plain.print(sample)
        finally:
            sys.stdout = sys_stdout
        assert plain_out.getvalue() == rich_out.getvalue(), sample


def test_a_cached_run_on_one_file_of_a_package_imports_nothing_heavy(tmp_path: Path) -> None:
    """Pre-commit on an unchanged file after the whole-project run: the project pass asks the package's other
    files for their AL107 call sites (forced lints), which the whole run's cached results answer."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sink.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n")
    for name in ("a", "b"):
        (package / f"{name}.py").write_text(f"from pkg.sink import pause\n\n\nasync def {name}():\n    pause()\n")
    first, first_out = _heavy_imports(["check", "."], tmp_path)
    assert "libcst" in first and "AL107" in first_out
    heavy, out = _heavy_imports(["check", "pkg/a.py"], tmp_path)
    assert "AL107" in out
    assert heavy == []
