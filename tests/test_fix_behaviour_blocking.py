"""The unsafe fixes of AL102-AL107 and AL110 keep what a program does: each program under tests/behaviour/blocking_*.py
runs (in a subprocess) before and after `--fix --unsafe-fixes`, and prints the same. A fixed program that hangs
(an `await` inserted while a thread lock is held) fails on the timeout."""

from __future__ import annotations

import shutil

import pytest

from helpers import BEHAVIOUR, fix_unsafely, run_program

TIMEOUT = 20

# program -> (rules to fix, lines the fix must leave exactly as they were)
CASES = {
    "blocking_al107_helper.py": ("AL107", []),
    "blocking_al107_dispatch.py": ("AL107", ["    pending = load(key)"]),
    "blocking_al106_waits.py": ("AL106", []),
    "blocking_al106_lock.py": ("AL110,AL106", ["        _ready.wait()", "        data = open(PATH).read()",
                                              "        fresh.acquire()"]),
    "blocking_al110_al104_files.py": ("AL110,AL104", ["    with open(path) as f:  # `with open(...)`: never fixed"]),
    "blocking_al102_al105_io.py": ("AL102,AL105", ["    conn = sqlite3.connect(\":memory:\")"]),
}




def test_every_program_is_listed():
    assert sorted(p.name for p in BEHAVIOUR.glob("blocking_*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_unsafe_fix_keeps_behaviour(name, tmp_path):
    codes, kept = CASES[name]
    target = tmp_path / name
    shutil.copy(BEHAVIOUR / name, target)
    before = run_program(target, TIMEOUT)
    assert before.returncode == 0, before.stderr
    original = target.read_text()
    result = fix_unsafely(target, codes)
    assert result.exit_code in (0, 1), result.output
    fixed = target.read_text()
    assert fixed != original and "asyncio.to_thread(" in fixed, "the program must exercise a fix"
    for line in kept:
        assert line in original.splitlines() and line in fixed.splitlines(), line
    after = run_program(target, TIMEOUT)
    assert (after.returncode, after.stdout) == (before.returncode, before.stdout), after.stderr
