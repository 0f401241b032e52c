"""AL106: waits for another thread's action (an event, a queue, a future, a join); the fix moves each wait into
a worker thread, which must not change what the program prints."""
import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

_ready = threading.Event()
_jobs = queue.Queue()
_executor = ThreadPoolExecutor(max_workers=2)


def producer():
    _jobs.put("job-1")
    _ready.set()


async def consume():
    worker = threading.Thread(target=producer)
    worker.start()
    _ready.wait(5)
    item = _jobs.get(timeout=5)
    worker.join()
    future = _executor.submit(pow, 2, 10)
    value = future.result()
    return item, value


async def main():
    print(await consume())
    _executor.shutdown()


asyncio.run(main())
