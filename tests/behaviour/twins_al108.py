"""AL108 (unsafe): a sync twin called in `async def` becomes its async twin, awaited (or iterated with `async
for`). Answers stay the same; while the handlers wait, the event loop now runs the other task (a ticker)."""
import asyncio

from langchain_core.runnables import Runnable
from llama_index.core import VectorStoreIndex

index = VectorStoreIndex.from_documents(["red apples", "green apples", "yellow bananas"])
engine = index.as_query_engine()


class Stock:
    def __init__(self):
        self.levels = {"apples": 3}

    def level(self, item):
        return self.levels.get(item, 0)

    async def alevel(self, item):
        await asyncio.sleep(0)
        return self.levels.get(item, 0)


async def answer(chain: Runnable, question: str, stock: Stock):
    reply = chain.invoke(question)
    many = chain.batch([question, "pears"])
    parts = []
    for part in chain.stream(question):
        parts.append(part)
    found = engine.query("apples").response
    return reply, many, parts, found, stock.level("apples")


async def main():
    ticks = 0
    done = False

    async def ticker():
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    result = await answer(Runnable("llm"), "apples", Stock())
    done = True
    await task
    for value in result:
        print("answer:", value)
    print("loop ran other tasks while answering:", ticks > 5)


asyncio.run(main())
