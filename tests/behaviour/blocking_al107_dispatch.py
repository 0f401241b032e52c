"""AL107: a dispatch helper returns a coroutine when a loop is running (and blocks only without one). Moving it
into a thread would take the sync branch there, and `await` of its plain value raises TypeError."""
import asyncio
import time


async def _load_async(key):
    await asyncio.sleep(0)
    return f"async:{key}"


def load(key):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        time.sleep(0.01)
        return f"sync:{key}"
    return _load_async(key)


def slow_label(key):
    time.sleep(0.01)
    return f"label:{key}"


async def handler(key):
    pending = load(key)
    value = await pending
    label = slow_label(key)
    return value, label


async def main():
    print(await handler("a"))
    print(load("outside-a-loop-is-never-here") if False else "ok")


print(load("no-loop"))
asyncio.run(main())
