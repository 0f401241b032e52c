"""AL801's unsafe fix, judged by behaviour: each program under tests/behaviour/threads_*.py is run before and
after `--fix --unsafe-fixes`; before, the worker thread's call on the loop goes unnoticed (the waiter resumes late)
or fails; after, the output is the correct one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import BEHAVIOUR, fix_unsafely, run_program


# program -> (output before the fix, output after it)
CASES = {
    "threads_queue.py": ("item late", "item prompt"),
    "threads_event.py": ("event late ['callback']", "event prompt ['callback']"),
    "threads_task.py": ("error: no running event loop\ndone: []", "done: ['reported']"),
}


def run(path: Path) -> str:
    done = run_program(path, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("name", sorted(CASES))
def test_fix_makes_the_thread_hand_its_call_to_the_loop(name, tmp_path):
    before_output, after_output = CASES[name]
    program = tmp_path / name
    shutil.copy(BEHAVIOUR / name, program)
    assert run(program) == before_output
    result = fix_unsafely(program, "AL801", "--preview")
    assert result.exit_code == 0, result.output  # every finding fixed
    assert program.read_text() != (BEHAVIOUR / name).read_text()
    assert run(program) == after_output


def test_every_behaviour_program_is_tested():
    assert {p.name for p in BEHAVIOUR.glob("threads_*.py")} == set(CASES)
