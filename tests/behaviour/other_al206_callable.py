"""AL206 (safe): a call handed where a callable is expected becomes the callable and its arguments:
`add_task(f(a, b=c))` -> `add_task(f, a, b=c)`, `to_thread(f(x))` -> `to_thread(f, x)`, likewise
`run_in_executor(None, f(x))`. Before the fix the call runs too early (in the event loop, or never: a
coroutine object) and the task fails with "not callable"; after it, it runs where and when it should. The
expected output is in tests/test_fix_behaviour_other.py."""
import asyncio
import threading

from fastapi import BackgroundTasks

SENT = []


async def notify(email, urgent=False):
    await asyncio.sleep(0)
    SENT.append((email, urgent))


def render(name, *, upper=False):
    on_loop_thread = threading.current_thread() is threading.main_thread()
    text = name.upper() if upper else name
    return f"{text} (rendered {'on the loop thread' if on_loop_thread else 'in a worker thread'})"


async def attempt(label, make):
    try:
        print(label, await make())
    except TypeError as exc:
        print(label, "TypeError:", exc)


async def signup(email, background_tasks):
    background_tasks.add_task(notify(email, urgent=True))
    return "signed up"


async def main():
    tasks = BackgroundTasks()
    print(await signup("ada@example.com", tasks))
    await attempt("background:", tasks)
    print("sent:", SENT)

    async def in_thread():
        return await asyncio.to_thread(render("report", upper=True))

    async def in_executor():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, render("invoice"))

    await attempt("to_thread:", in_thread)
    await attempt("executor:", in_executor)


asyncio.run(main())
