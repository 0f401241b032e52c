"""Issue 12 item 6: `--fix` keeps what a file was (symlinks, mode, owner, group), never writes a file without
write permission bits, and counts only the fixes it wrote."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from async_lint.cli import cli

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
FIXED = "import time\nimport asyncio\n\nasync def handler():\n    await asyncio.sleep(1)\n"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def fix(*args: str):
    return CliRunner().invoke(cli, ["check", "--no-cache", "--fix", "--select", "AL101", *args])


def test_fixing_through_a_symlink_rewrites_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.py"
    real.write_text(BLOCKING)
    (tmp_path / "link.py").symlink_to("real.py")
    result = fix(str(tmp_path / "link.py"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "link.py").is_symlink() and os.readlink(tmp_path / "link.py") == "real.py"
    assert real.read_text() == FIXED
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_a_link_and_its_target_both_named_are_written_once_and_counted_once(tmp_path):
    real = tmp_path / "real.py"
    real.write_text(BLOCKING)
    (tmp_path / "link.py").symlink_to(real)
    result = fix(str(tmp_path))  # the walk finds both names
    assert result.exit_code == 0, result.output
    assert (tmp_path / "link.py").is_symlink()
    assert real.read_text() == FIXED
    assert "1 fixed, 0 remaining" in result.stdout


def test_a_link_in_another_folder_is_followed_to_its_target(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "app").mkdir()
    real = tmp_path / "src" / "real.py"
    real.write_text(BLOCKING)
    (tmp_path / "app" / "link.py").symlink_to(real)
    result = fix(str(tmp_path / "app"))
    assert result.exit_code == 0, result.output
    assert real.read_text() == FIXED and (tmp_path / "app" / "link.py").is_symlink()
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["real.py"]  # the temporary file is gone


def test_mode_is_kept(tmp_path):
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    target.chmod(0o751)
    assert fix(str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o751 and target.read_text() == FIXED


@pytest.mark.skipif(not ROOT, reason="changing a file's owner needs root")
def test_owner_and_group_are_kept(tmp_path):
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    os.chown(target, 12345, 23456)
    target.chmod(0o664)
    result = fix(str(target))
    assert result.exit_code == 0, result.output
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (12345, 23456)
    assert stat.S_IMODE(st.st_mode) == 0o664 and target.read_text() == FIXED


@pytest.mark.skipif(not ROOT, reason="changing a file's owner needs root")
def test_setgid_bit_survives_the_change_of_owner(tmp_path):
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    os.chown(target, 12345, 23456)
    target.chmod(0o2664)
    assert fix(str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o2664


def test_owner_that_cannot_be_kept_means_not_written(tmp_path, monkeypatch):
    """Not root: a new file cannot be given another owner; the file is left alone rather than changing hands."""
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    real_stat = os.stat

    def foreign_stat(path, *args, **kwargs):
        st = real_stat(path, *args, **kwargs)
        if str(path) == str(target):
            return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid + 1, st.st_gid,
                                   st.st_size, st.st_atime, st.st_mtime, st.st_ctime))
        return st

    def no_chown(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "stat", foreign_stat)
    monkeypatch.setattr(os, "chown", no_chown)
    result = fix(str(target))
    assert "cannot keep the file's owner and group" in result.stderr
    assert target.read_text() == BLOCKING
    assert not [p for p in tmp_path.iterdir() if p.name != "app.py"], "temporary file left behind"


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o000])
def test_a_file_without_write_bits_is_reported_and_never_written_root_or_not(tmp_path, mode):
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    target.chmod(mode)
    try:
        if mode == 0o000 and not ROOT:
            pytest.skip("unreadable for a normal user: nothing to fix")
        result = fix("--output-format", "concise", str(target))
        assert "read-only" in result.stderr, result.output
        assert target.read_text() == BLOCKING
        assert stat.S_IMODE(target.stat().st_mode) == mode
        # Nothing was written: nothing is counted as fixed, the finding is still there, exit 1.
        assert result.exit_code == 1
        assert "fixed" not in result.stdout and "AL101" in result.stdout
        assert "Found 1 finding (1 fixable with --fix)" in result.stdout
    finally:
        target.chmod(0o644)


def test_summary_counts_only_the_files_written(tmp_path):
    (tmp_path / "a.py").write_text(BLOCKING)
    (tmp_path / "b.py").write_text(BLOCKING + "\n\nasync def other():\n    time.sleep(2)\n")
    (tmp_path / "b.py").chmod(0o444)
    try:
        result = fix(str(tmp_path))
        assert (tmp_path / "a.py").read_text() == FIXED
        assert "time.sleep(2)" in (tmp_path / "b.py").read_text()
        assert "Found 3 findings (1 fixed, 2 remaining, 2 fixable with --fix)" in result.stdout, result.stdout
        assert result.exit_code == 1
    finally:
        (tmp_path / "b.py").chmod(0o644)


def test_json_after_a_failed_write_shows_the_findings_still_in_the_file(tmp_path):
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    target.chmod(0o444)
    try:
        result = fix("--output-format", "json", str(target))
        [finding] = json.loads(result.stdout)
        assert finding["code"] == "AL101" and finding["fix"] is not None
    finally:
        target.chmod(0o644)


def test_a_file_with_other_hard_links_is_not_split(tmp_path):
    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    os.link(target, tmp_path / "copy.txt")
    result = fix(str(target))
    assert "hard links" in result.stderr
    assert target.read_text() == BLOCKING == (tmp_path / "copy.txt").read_text()
    assert os.stat(target).st_ino == os.stat(tmp_path / "copy.txt").st_ino


def test_a_file_changed_while_being_fixed_is_not_overwritten(tmp_path, monkeypatch):
    from async_lint import fixer

    target = tmp_path / "app.py"
    target.write_text(BLOCKING)
    real_write = fixer.write_atomically

    def edit_first(path, data, expected=None):
        Path(path).write_text(BLOCKING + "# edited meanwhile\n")
        return real_write(path, data, expected)

    monkeypatch.setattr(fixer, "write_atomically", edit_first)
    result = fix(str(target))
    assert "changed while it was being fixed" in result.stderr
    assert target.read_text().endswith("# edited meanwhile\n")
