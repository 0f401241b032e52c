"""AL205 (unsafe): `asyncio.run(coro)` / `loop.run_until_complete(coro)` inside `async def` becomes
`await coro`. Before the fix each raises RuntimeError (a loop is already running) and the coroutine never runs;
after it, the result is the one the coroutine returns, computed in the running loop. The expected output is in
tests/test_fix_behaviour_other.py."""
import asyncio


async def fetch_total(n, *, scale=1):
    await asyncio.sleep(0)
    return sum(range(n)) * scale


async def report():
    try:
        total = asyncio.run(fetch_total(5, scale=2))
    except RuntimeError as exc:
        total = f"RuntimeError: {exc}"
    return total


async def report_legacy():
    loop = asyncio.get_running_loop()
    try:
        total = loop.run_until_complete(fetch_total(4))
    except RuntimeError as exc:
        total = f"RuntimeError: {exc}"
    return total


def sync_entry():
    return asyncio.run(fetch_total(3))  # sync code: the right place for asyncio.run, not changed


async def main():
    print("report:", await report())
    print("legacy:", await report_legacy())


print("sync:", sync_entry())
asyncio.run(main())
