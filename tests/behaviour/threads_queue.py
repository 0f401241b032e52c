"""AL801 behaviour: a worker thread hands items to the loop through an asyncio.Queue.

Before the fix `q.put_nowait()` runs in the thread: the waiting `q.get()` is not woken until something else wakes
the loop (here, the thread finishing 1.5 s later). After it, `loop.call_soon_threadsafe` wakes it at once.
"""
import asyncio
import time


def produce(loop: asyncio.AbstractEventLoop, q: asyncio.Queue) -> None:
    time.sleep(0.3)  # let the loop start waiting in q.get()
    q.put_nowait("item")
    time.sleep(1.5)


async def main() -> None:
    loop = asyncio.get_running_loop()
    q: asyncio.Queue = asyncio.Queue()
    start = time.monotonic()
    worker = asyncio.ensure_future(asyncio.to_thread(produce, loop, q))
    item = await asyncio.wait_for(q.get(), 5)
    elapsed = time.monotonic() - start
    print(item, "prompt" if elapsed < 1.0 else "late")
    await worker


asyncio.run(main())
