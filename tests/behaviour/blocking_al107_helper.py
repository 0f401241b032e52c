"""AL107: an async function calls a sync helper that sleeps; the fix runs the helper in a thread."""
import asyncio
import time


def pause(seconds):
    time.sleep(seconds)


def slow_total(values):
    pause(0.01)
    return sum(values)


async def handler(values):
    total = slow_total(values)
    return total * 2


async def main():
    results = await asyncio.gather(handler([1, 2]), handler([3, 4]))
    print("results", results)


asyncio.run(main())
