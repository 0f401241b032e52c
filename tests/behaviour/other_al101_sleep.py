"""AL101: `time.sleep()` in `async def` becomes `await asyncio.sleep()` (and `import asyncio` is added: this
program imports only names from asyncio). What each handler returns, and in which order, stays the same; the
only change is that the event loop runs other tasks while the handlers wait."""
import time
from asyncio import create_task, gather, run
from time import sleep as nap

ticks = 0
FREE = []


async def heartbeat():
    global ticks
    from asyncio import sleep as tick
    while True:
        ticks += 1
        await tick(0.001)


async def poll(name, delay):
    start = ticks
    time.sleep(delay)
    nap(delay)
    waited = [time.sleep(0) for _ in range(2)]  # a comprehension: `await` is allowed inside `async def`
    FREE.append(ticks > start)  # did the heartbeat run while this handler waited?
    return f"{name} polled after {delay}s, {len(waited)} short waits"


async def main():
    beat = create_task(heartbeat())
    results = await gather(poll("a", 0.02), poll("b", 0.01))
    print(*results, sep="\n")
    print("loop ran other tasks while handlers slept:", all(FREE))
    beat.cancel()


run(main())
