"""AL401 (unsafe): `client = X(...)` followed by its uses becomes `async with X(...) as client:` (`with` for a
sync client) around the rest of the block. What each function returns or raises stays the same, returns and
exceptions included; the only change is that every client is closed when the function is done (the stubs in
other_stubs/ record the clients still open)."""
import asyncio

import aiohttp
import httpx


async def fetch(url):
    client = httpx.AsyncClient(timeout=10)  # one per call
    r = await client.get(url)
    return r.json()


async def first_success(urls, retries):
    # one client for every attempt
    client = httpx.AsyncClient(
        base_url="https://api.example.com",
        timeout=10,
    )
    for attempt in range(retries):
        for url in urls:
            r = await client.get(url)
            if r.is_success:
                return attempt, r.json()

    # nothing answered
    return None


async def fails(url):
    client = httpx.AsyncClient(base_url="https://api.example.com", timeout=10)
    r = await client.get(url)
    return r.json()  # raises for /flaky: the client must be closed all the same


async def pages(urls, verbose):
    if urls:
        session = aiohttp.ClientSession()
        texts = [await (await session.get(u)).text() for u in urls]
        if verbose:
            print("fetched", len(texts), "pages")
    return verbose


def sync_fetch(url):
    client = httpx.Client(timeout=10)
    return client.get(url).text


async def main():
    print("fetch:", await fetch("https://api.example.com/users"))
    print("first_success:", await first_success(["/flaky", "/users"], 2))
    print("first_success, none:", await first_success(["/flaky"], 2))
    try:
        await fails("/flaky")
    except httpx.HTTPError as exc:
        print("fails:", type(exc).__name__, exc)
    print("pages:", await pages(["/a", "/b"], True))
    print("sync_fetch:", sync_fetch("/users"))
    print("clients left open:", len(httpx.OPEN), "sessions left open:", len(aiohttp.OPEN))


asyncio.run(main())
