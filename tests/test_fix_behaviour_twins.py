"""AL108's fix does what it promises to a running program: tests/behaviour/twins_al108.py runs (next to the
stand-in libraries of tests/behaviour/twins_stubs/) before and after `check --fix --unsafe-fixes --preview`. The
answers stay the same; only the line that shows the event loop was blocked changes."""

from __future__ import annotations

import shutil

from helpers import BEHAVIOUR, fix_unsafely, run_program

PROGRAM = "twins_al108.py"
BEFORE = (
    "answer: llm(apples)\n"
    "answer: ['llm(apples)', 'llm(pears)']\n"
    "answer: ['llm', 'apples)']\n"
    "answer: red apples, green apples\n"
    "answer: 3\n"
    "loop ran other tasks while answering: False\n"
)
SNIPPETS = ["reply = await chain.ainvoke(question)", "many = await chain.abatch([question, \"pears\"])",
            "    async for part in chain.astream(question):", "found = (await engine.aquery(\"apples\")).response",
            "await stock.alevel(\"apples\")"]


def test_fix_changes_only_what_it_promises(tmp_path):
    shutil.copytree(BEHAVIOUR / "twins_stubs", tmp_path, dirs_exist_ok=True)
    target = tmp_path / PROGRAM
    shutil.copy(BEHAVIOUR / PROGRAM, target)

    before = run_program(target)
    assert before.returncode == 0, before.stderr
    assert before.stdout == BEFORE, "the program must show the bug the fix removes"

    result = fix_unsafely(target, "AL108", "--preview")
    assert result.exit_code == 0, result.output  # everything reported was fixed
    fixed = target.read_text()
    for snippet in SNIPPETS:
        assert snippet in fixed, f"expected in the fixed program: {snippet!r}"

    after = run_program(target)
    assert after.returncode == 0, after.stderr
    assert after.stdout == BEFORE.replace("answering: False", "answering: True")
    assert "never awaited" not in after.stderr, after.stderr
