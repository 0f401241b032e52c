"""AL801 behaviour: a worker thread starts a coroutine on the loop.

Before the fix `asyncio.create_task()` in the thread raises `RuntimeError: no running event loop`; after it
`asyncio.run_coroutine_threadsafe(coro, loop)` runs the coroutine on the loop.
"""
import asyncio

done = []


async def report(value: str) -> None:
    done.append(value)


def submit(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.create_task(report("reported"))


async def main() -> None:
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, submit, loop)
    except RuntimeError as exc:
        print("error:", exc)
    for _ in range(20):
        if done:
            break
        await asyncio.sleep(0.05)
    print("done:", done)


asyncio.run(main())
