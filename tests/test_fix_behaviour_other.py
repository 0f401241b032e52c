"""The fixes of AL101, AL201, AL205, AL206 and AL401/AL402 do what they promise to a running program. Each
program under tests/behaviour/other_*.py runs (in a subprocess, next to the stand-in libraries of
tests/behaviour/other_stubs/) before and after `check --fix --unsafe-fixes`; its output must change exactly in
the lines the fix is meant to change (the bug), and nowhere else."""

from __future__ import annotations

import shutil

import pytest

from helpers import BEHAVIOUR, fix_unsafely, run_program

STUBS = BEHAVIOUR / "other_stubs"
TIMEOUT = 20

# program -> (rules to fix, text the fixed program must contain, output before the fix, {line before: line after})
CASES = {
    "other_al101_sleep.py": (
        "AL101", ["import asyncio\n", "    await asyncio.sleep(delay)\n    await asyncio.sleep(delay)\n",
                  "[await asyncio.sleep(0) for _ in range(2)]"],
        "a polled after 0.02s, 2 short waits\n"
        "b polled after 0.01s, 2 short waits\n"
        "loop ran other tasks while handlers slept: False\n",
        {"loop ran other tasks while handlers slept: False": "loop ran other tasks while handlers slept: True"},
    ),
    "other_al201_await.py": (
        "AL201", ["    await save(order)\n", "if await is_closed(shop):", "len(await save(order * 10))",
                  "    return save(order)  # sync code"],
        "open shop: shop closed\n"
        "closed shop: shop closed\n"
        "sync: [3]\n"
        "saved: [3]\n",
        {"open shop: shop closed": "open shop: order 1 saved, 1 line(s)", "saved: [3]": "saved: [1, 10, 2, 3]"},
    ),
    "other_al205_nested_loop.py": (
        "AL205", ["total = await fetch_total(5, scale=2)", "total = await fetch_total(4)",
                  "    return asyncio.run(fetch_total(3))  # sync code"],
        "sync: 3\n"
        "report: RuntimeError: asyncio.run() cannot be called from a running event loop\n"
        "legacy: RuntimeError: This event loop is already running\n",
        {"report: RuntimeError: asyncio.run() cannot be called from a running event loop": "report: 20",
         "legacy: RuntimeError: This event loop is already running": "legacy: 6"},
    ),
    "other_al206_callable.py": (
        "AL206", ["add_task(notify, email, urgent=True)", "to_thread(render, \"report\", upper=True)",
                  "run_in_executor(None, render, \"invoice\")"],
        "signed up\n"
        "background: TypeError: 'coroutine' object is not callable\n"
        "sent: []\n"
        "to_thread: TypeError: 'str' object is not callable\n"
        "executor: TypeError: 'str' object is not callable\n",
        {"background: TypeError: 'coroutine' object is not callable": "background: None",
         "sent: []": "sent: [('ada@example.com', True)]",
         "to_thread: TypeError: 'str' object is not callable": "to_thread: REPORT (rendered in a worker thread)",
         "executor: TypeError: 'str' object is not callable": "executor: invoice (rendered in a worker thread)"},
    ),
    "other_al401_clients.py": (
        "AL401", ["    async with httpx.AsyncClient(timeout=10) as client:  # one per call\n",
                  "    ) as client:\n        for attempt in range(retries):",
                  "        # nothing answered\n        return None\n",
                  "        async with aiohttp.ClientSession() as session:\n",
                  "    with httpx.Client(timeout=10) as client:\n"],
        "fetch: [1, 2, 3]\n"
        "first_success: (0, [1, 2, 3])\n"
        "first_success, none: None\n"
        "fails: HTTPError 404 for /flaky\n"
        "fetched 2 pages\n"
        "pages: True\n"
        "sync_fetch: [1, 2, 3]\n"
        "clients left open: 5 sessions left open: 1\n",
        {"clients left open: 5 sessions left open: 1": "clients left open: 0 sessions left open: 0"},
    ),
    "other_al402_sessions.py": (
        "AL402", ["    async with AsyncSessionLocal() as session:\n", "    async with LegacyAsync() as session:\n",
                  "    with engine.connect() as conn:\n", "    with Session(engine) as session:  # a sync session"],
        "users: 2\n"
        "user 2: grace\n"
        "user 9: LookupError 9\n"
        "ping: 1\n"
        "names: ['ada', 'grace', 'linus']\n"
        "users: 3\n"
        "left open: 7\n",
        {"left open: 7": "left open: 0"},
    ),
}




def test_every_program_is_listed():
    assert sorted(p.name for p in BEHAVIOUR.glob("other_*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fix_changes_only_what_it_promises(name, tmp_path):
    codes, snippets, before_output, changes = CASES[name]
    shutil.copytree(STUBS, tmp_path, dirs_exist_ok=True)
    target = tmp_path / name
    shutil.copy(BEHAVIOUR / name, target)

    before = run_program(target, TIMEOUT)
    assert before.returncode == 0, before.stderr
    assert before.stdout == before_output, "the program must show the bug the fix removes"

    original = target.read_text()
    result = fix_unsafely(target, codes)
    assert result.exit_code == 0, result.output  # everything reported was fixed
    fixed = target.read_text()
    for snippet in snippets:
        assert snippet in fixed, f"expected in the fixed program: {snippet!r}"
    assert fixed != original

    after = run_program(target, TIMEOUT)
    assert after.returncode == 0, after.stderr
    expected = "".join(changes.get(line, line) + "\n" for line in before_output.splitlines())
    assert after.stdout == expected
    assert "never awaited" not in after.stderr, after.stderr
