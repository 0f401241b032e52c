"""AL801 behaviour: a thread started with threading.Thread signals the loop through an asyncio.Event, and
schedules a callback with `loop.call_soon`; the loop is the enclosing coroutine's `loop`.

Before the fix neither wakes the loop (the waiter resumes only when the thread's join is polled); after it both
go through `loop.call_soon_threadsafe`.
"""
import asyncio
import threading
import time


async def main() -> None:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    calls = []

    def work() -> None:
        time.sleep(0.3)  # let the loop start waiting in ready.wait()
        ready.set()
        loop.call_soon(calls.append, "callback")
        time.sleep(1.5)

    start = time.monotonic()
    thread = threading.Thread(target=work)
    thread.start()
    await asyncio.wait_for(ready.wait(), 5)
    elapsed = time.monotonic() - start
    while thread.is_alive():
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.05)
    print("event", "prompt" if elapsed < 1.0 else "late", calls)


asyncio.run(main())
