"""Bad input, crash isolation, never-corrupt writes, never running user code, and a whole-installation sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def check(*args: str):
    return CliRunner().invoke(cli, ["check", "--no-cache", *args])


def by_file(output: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for finding in json.loads(output):
        out.setdefault(Path(finding["filename"]).name, []).append(finding)
    return out


def test_huge_generated_file_is_skipped_with_a_warning_and_others_are_linted(tmp_path):
    lines = ["import time", ""] + [f"async def h{i}(x):\n    return x + {i}\n" for i in range(125_000)]
    (tmp_path / "generated.py").write_text("\n".join(lines))
    assert (tmp_path / "generated.py").stat().st_size > 5 * 1024 * 1024
    (tmp_path / "good.py").write_text(BLOCKING)
    started = time.perf_counter()
    result = check("--output-format", "json", str(tmp_path))
    assert time.perf_counter() - started < 30
    assert result.exit_code == 1
    assert list(by_file(result.stdout)) == ["good.py"]
    assert "generated.py: skipped: 5" in result.stderr and "max-file-size" in result.stderr


def test_max_file_size_is_configurable(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\nmax-file-size = 0.00001\n")
    (tmp_path / "good.py").write_text(BLOCKING)
    result = check(str(tmp_path))
    assert result.exit_code == 0 and "skipped" in result.stderr


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_positions_with_crlf_and_cr(tmp_path, newline):
    (tmp_path / "app.py").write_bytes(BLOCKING.replace("\n", newline).encode())
    [finding] = json.loads(check("--output-format", "json", str(tmp_path)).stdout)
    assert (finding["location"]["row"], finding["location"]["column"]) == (4, 5)


def test_bom_does_not_shift_positions(tmp_path):
    (tmp_path / "app.py").write_bytes(b"\xef\xbb\xbf" + BLOCKING.encode())
    [finding] = json.loads(check("--output-format", "json", str(tmp_path)).stdout)
    assert (finding["location"]["row"], finding["location"]["column"]) == (4, 5)


def test_form_feed_does_not_shift_rows(tmp_path):
    (tmp_path / "app.py").write_text("import time\n\x0c\nasync def handler():\n    time.sleep(1)  # noqa: AL101\n")
    assert check(str(tmp_path)).exit_code == 0  # the noqa is found on the right row


def test_binary_file_named_py(tmp_path):
    (tmp_path / "blob.py").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "good.py").write_text(BLOCKING)
    files = by_file(check("--output-format", "json", str(tmp_path)).stdout)
    assert files["blob.py"][0]["code"] == "AL001" and "binary" in files["blob.py"][0]["message"]
    assert files["good.py"][0]["code"] == "AL101"


def test_symlink_loop_in_the_tree(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "good.py").write_text(BLOCKING)
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    result = check("--output-format", "json", str(tmp_path))
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.stdout)] == ["AL101"]
    assert "symlink loop" in result.stderr


def test_unreadable_folder_is_reported_and_the_rest_linted(tmp_path, monkeypatch):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "x.py").write_text(BLOCKING)
    (tmp_path / "good.py").write_text(BLOCKING)
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "secret":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = check("--output-format", "json", str(tmp_path))
    assert list(by_file(result.stdout)) == ["good.py"]
    assert "secret: cannot read folder: Permission denied" in result.stderr


def test_a_crashing_rule_becomes_AL002_and_exit_2(tmp_path, monkeypatch):
    from async_lint.checks.blocking import BlockingCall

    def boom(self, ctx):
        raise ZeroDivisionError("bad arithmetic")

    monkeypatch.setattr(BlockingCall, "check", boom)
    (tmp_path / "a.py").write_text(BLOCKING)
    (tmp_path / "b.py").write_text("import asyncio\n\nasync def f():\n    asyncio.get_event_loop()\n")
    result = check("--output-format", "json", "--jobs", "1", "--show-traceback", "--extend-select", "AL203",
                   str(tmp_path))
    assert result.exit_code == 2
    files = by_file(result.stdout)
    errors = [f for f in files["a.py"] if f["code"] == "AL002"]
    assert errors and "BlockingCall" in errors[0]["message"] and "ZeroDivisionError" in errors[0]["message"]
    assert any(f["code"] == "AL203" for f in files["b.py"])  # the other rules and files go on
    assert "Traceback" in result.stderr


def test_a_dying_worker_does_not_hang_the_run(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i:02}.py").write_text(BLOCKING)
    (tmp_path / "m07.py").write_text(BLOCKING)
    env = {**os.environ, "ASYNC_LINT_TEST_KILL_WORKER_ON": "m07.py"}
    proc = subprocess.run([sys.executable, "-m", "async_lint", "check", "--no-cache", "--jobs", "2",
                           "--output-format", "json", str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)) == 40  # every file, the crashed chunk redone in the main process


@pytest.mark.slow
def test_sigint_leaves_every_file_old_or_new(tmp_path):
    original = BLOCKING * 40
    for i in range(300):
        (tmp_path / f"m{i:03}.py").write_text(original)
    fixed_once = None
    proc = subprocess.Popen([sys.executable, "-m", "async_lint", "check", "--no-cache", "--fix", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    contents = {p.read_text() for p in tmp_path.glob("m*.py")}
    for text in contents:
        if text != original:
            fixed_once = fixed_once or text
            assert text == fixed_once and "await asyncio.sleep(1)" in text and "time.sleep" not in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_never_imports_or_runs_project_code(tmp_path):
    marker = tmp_path / "SIDE_EFFECT"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\nselect = ['ALL']\n")
    (tmp_path / "conftest.py").write_text(payload)
    (tmp_path / "setup.py").write_text(payload)
    (tmp_path / "evil.py").write_text(payload + "import time\n\nasync def f():\n    time.sleep(1)\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(payload)
    (tmp_path / "pkg" / "main.py").write_text("from . import helper\n\nasync def f():\n    helper.go()\n")
    (tmp_path / "pkg" / "helper.py").write_text(payload + "def go():\n    pass\n")
    result = check("--fix", "--unsafe-fixes", str(tmp_path))
    assert result.exit_code in (0, 1), result.output
    assert not marker.exists()


@pytest.mark.slow
def test_whole_installation_sweep_has_no_internal_error():
    """Every .py file of this test environment's site-packages: no AL002, no crash."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    proc = subprocess.run([sys.executable, "-m", "async_lint", "check", "--no-cache", "--select", "ALL",
                           "--output-format", "json", "--exit-zero", str(site)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    findings = json.loads(proc.stdout)
    internal = [f for f in findings if f["code"] == "AL002"]
    assert internal == [], internal[:5]
