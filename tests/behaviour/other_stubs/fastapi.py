"""Stand-in for fastapi.BackgroundTasks, which runs its tasks as Starlette does: `func(*args, **kwargs)`,
awaited when `func` is a coroutine function, in a thread otherwise."""

import asyncio
import inspect


class BackgroundTasks:
    def __init__(self):
        self.tasks = []

    def add_task(self, func, *args, **kwargs):
        self.tasks.append((func, args, kwargs))

    async def __call__(self):
        for func, args, kwargs in self.tasks:
            if inspect.iscoroutinefunction(func):
                await func(*args, **kwargs)
            else:
                await asyncio.to_thread(func, *args, **kwargs)
