"""Stand-in: a Runnable that answers after a wait (time.sleep in the sync methods, asyncio.sleep in the twins)."""
import asyncio
import time

WAIT = 0.05


class Runnable:
    def __init__(self, name):
        self.name = name

    def _answer(self, value):
        return f"{self.name}({value})"

    def invoke(self, value):
        time.sleep(WAIT)
        return self._answer(value)

    async def ainvoke(self, value):
        await asyncio.sleep(WAIT)
        return self._answer(value)

    def batch(self, values):
        time.sleep(WAIT)
        return [self._answer(v) for v in values]

    async def abatch(self, values):
        await asyncio.sleep(WAIT)
        return [self._answer(v) for v in values]

    def stream(self, value):
        for part in self._answer(value).split("("):
            time.sleep(WAIT / 2)
            yield part

    async def astream(self, value):
        for part in self._answer(value).split("("):
            await asyncio.sleep(WAIT / 2)
            yield part
