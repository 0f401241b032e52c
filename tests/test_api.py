"""The Python API: `async_lint.check`, `check_source`, `fix_source`, loaded lazily from `import async_lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import async_lint

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
FIXED = "import time\nimport asyncio\n\nasync def handler():\n    await asyncio.sleep(1)\n"


def test_import_loads_no_heavy_module():
    code = ("import sys, async_lint; assert async_lint.__version__; "
            "print(sorted(m for m in ('libcst', 'rich', 'click', 'pygls') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_flag_loads_neither_libcst_nor_pygls():
    code = ("import sys\nfrom async_lint.cli import main\nsys.argv = ['async-lint', '--version']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('libcst', 'pygls') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines() == [f"async-lint, version {async_lint.__version__}", "[]"]


def test_check_returns_findings(tmp_path: Path):
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / "clean.py").write_text("import asyncio\n\nasync def ok():\n    await asyncio.sleep(1)\n")
    findings = async_lint.check([tmp_path])
    assert [(Path(f.path).name, f.code, f.row, f.column) for f in findings] == [("app.py", "AL101", 4, 5)]
    finding = findings[0]
    assert isinstance(finding, async_lint.Finding)
    assert finding.fix is not None and finding.fix.applicability == "safe"
    assert async_lint.check(str(tmp_path / "app.py"))[0].code == "AL101"  # a single path, as a string


def test_check_settings_keywords(tmp_path: Path):
    (tmp_path / "app.py").write_text(BLOCKING)
    assert async_lint.check(tmp_path, ignore=["AL101"]) == []
    assert async_lint.check(tmp_path, select="AL2") == []  # a string is split at commas, like the CLI flag
    assert async_lint.check(tmp_path, per_file_ignores={"app.py": ["AL1"]}) == []
    assert async_lint.check(tmp_path, exclude=["app.py"]) == []
    assert [f.code for f in async_lint.check(tmp_path, select=["AL101"])] == ["AL101"]


def test_check_reads_the_project_configuration(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nignore = ["AL101"]\n')
    (tmp_path / "app.py").write_text(BLOCKING)
    assert async_lint.check(tmp_path) == []
    # Keywords adjust the configuration the way command-line flags do: --select starts afresh.
    assert [f.code for f in async_lint.check(tmp_path, select=["AL1"])] == ["AL101"]
    other = tmp_path / "other.toml"
    other.write_text("select = ['AL1']\n")
    assert [f.code for f in async_lint.check(tmp_path, config=other)] == ["AL101"]


def test_check_errors(tmp_path: Path):
    (tmp_path / "app.py").write_text(BLOCKING)
    with pytest.raises(TypeError, match="unknown setting `selekt`"):
        async_lint.check(tmp_path, selekt=["AL1"])
    with pytest.raises(async_lint.ConfigError, match="XX9"):
        async_lint.check(tmp_path, select=["XX9"])
    with pytest.raises(async_lint.ConfigError, match="helper_depth"):
        async_lint.check(tmp_path, helper_depth=-1)
    with pytest.raises(FileNotFoundError):
        async_lint.check(tmp_path / "missing.py")


def test_preview_keyword(tmp_path: Path):
    (tmp_path / "app.py").write_text(BLOCKING)
    assert [f.code for f in async_lint.check(tmp_path, preview=True)] == ["AL101"]
    assert [f.code for f in async_lint.check(tmp_path, preview=False)] == ["AL101"]
    catalog = async_lint.settings_for([tmp_path]).catalog()
    previews = [code for code, rule in catalog.rules.items() if getattr(rule, "preview", False)]
    if "AL502" not in previews:
        pytest.skip("no preview rule AL502 in this catalog")
    source = ("import asyncio\n\nasync def send(u):\n    return u\n\nasync def notify(users):\n"
              "    await asyncio.gather(*(send(u) for u in users), return_exceptions=True)\n")
    assert async_lint.check_source(source, tmp_path / "app.py", extend_select=["AL502"]) == []
    codes = [f.code for f in async_lint.check_source(source, tmp_path / "app.py", extend_select=["AL502"],
                                                     preview=True)]
    assert codes == ["AL502"]


def test_check_source_uses_the_filename_for_configuration(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nper-file-ignores = { "legacy/*" = ["AL1"] }\n')
    # The file need not exist: its path decides configuration and per-file ignores.
    assert [f.code for f in async_lint.check_source(BLOCKING, tmp_path / "app.py")] == ["AL101"]
    assert async_lint.check_source(BLOCKING, tmp_path / "legacy" / "old.py") == []
    assert async_lint.check_source(BLOCKING.encode(), tmp_path / "app.py")[0].path == str(tmp_path / "app.py")


def test_check_source_sees_the_package(tmp_path: Path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("import time\n\ndef helper():\n    time.sleep(1)\n")
    main = "from .helpers import helper\n\nasync def f():\n    helper()\n"
    # AL107 (a blocking helper in another module of the package) needs the project index.
    codes = [f.code for f in async_lint.check_source(main, pkg / "main.py", select=["AL107"])]
    assert codes == ["AL107"]


def test_fix_source(tmp_path: Path):
    assert async_lint.fix_source(BLOCKING, tmp_path / "app.py") == FIXED
    assert async_lint.fix_source(FIXED, tmp_path / "app.py") == FIXED
    assert async_lint.fix_source(BLOCKING, tmp_path / "app.py", ignore=["AL101"]) == BLOCKING
    crlf = BLOCKING.replace("\n", "\r\n")
    assert async_lint.fix_source(crlf, tmp_path / "app.py") == FIXED.replace("\n", "\r\n")


def test_fix_source_unsafe(tmp_path: Path):
    source = "import subprocess\n\nasync def handler():\n    subprocess.run(['ls'])\n"
    assert [(f.code, f.fix.applicability) for f in async_lint.check_source(source, tmp_path / "app.py")] == [
        ("AL104", "unsafe")]
    assert async_lint.fix_source(source, tmp_path / "app.py") == source  # unsafe fixes need unsafe=True
    assert async_lint.fix_source(source, tmp_path / "app.py", unsafe=True) == (
        "import subprocess\nimport asyncio\n\nasync def handler():\n"
        "    await asyncio.to_thread(subprocess.run, ['ls'])\n")


def test_fix_source_keeps_source_that_does_not_parse(tmp_path: Path):
    broken = "async def f(:\n    time.sleep(1)\n"
    assert async_lint.fix_source(broken, tmp_path / "app.py") == broken
    assert [f.code for f in async_lint.check_source(broken, tmp_path / "app.py")] == ["AL001"]


def test_test_files_keywords(tmp_path: Path):
    if "test_select" not in async_lint.api.known_keywords():
        pytest.skip("no test-select setting in this version")
    test_file = tmp_path / "tests" / "test_app.py"
    # Test files run AL2xx/AL7xx only by default; test_select widens that, as --test-select does.
    assert async_lint.check_source(BLOCKING, test_file) == []
    assert [f.code for f in async_lint.check_source(BLOCKING, test_file, test_select=["ALL"])] == ["AL101"]
