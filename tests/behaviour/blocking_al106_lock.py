"""AL110/AL106 inside a thread lock's critical section, run by two concurrent tasks. An `await` inserted inside
`with _guard:` lets the second task block the loop's thread on `_guard` while the first waits for its worker
thread to be resumed by that same loop: the program would hang. The fixed program must finish."""
import asyncio
import os
import tempfile
import threading

_guard = threading.Lock()
_ready = threading.Event()
_ready.set()
PATH = os.path.join(tempfile.mkdtemp(), "state.txt")
with open(PATH, "w") as f:
    f.write("state")


async def update(n):
    _ready.wait()  # outside the lock: fixed
    with _guard:
        _ready.wait()
        data = open(PATH).read()
        fresh = threading.Lock()
        fresh.acquire()
        fresh.release()
    await asyncio.sleep(0)
    return f"{n}:{data}"


async def main():
    print(await asyncio.gather(update(1), update(2), update(3)))


asyncio.run(main())
