"""AL201 (safe): the missing `await` is inserted. Before the fix the coroutines never run (the order is not
saved, a coroutine object is always true, `len()` of a coroutine raises); after it, the program does what it
says. The expected output is in tests/test_fix_behaviour_other.py."""
import asyncio

SAVED = []


async def save(order):
    await asyncio.sleep(0)
    SAVED.append(order)
    return [order]


async def is_closed(shop):
    return shop == "closed"


async def handler(order, shop):
    save(order)
    if is_closed(shop):
        return "shop closed"
    try:
        count = len(save(order * 10))
    except TypeError as exc:
        count = f"TypeError: {exc}"
    return f"order {order} saved, {count} line(s)"


def sync_code(order):
    return save(order)  # sync code: no await inserted (it would not compile); the caller awaits it


async def main():
    print("open shop:", await handler(1, "open"))
    print("closed shop:", await handler(2, "closed"))
    print("sync:", await sync_code(3))
    print("saved:", SAVED)


asyncio.run(main())
