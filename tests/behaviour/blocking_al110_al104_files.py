"""AL110/AL104: single-file reads and a child process inside `async def`; the fix runs each in a worker thread."""
import asyncio
import os
import pathlib
import subprocess
import sys
import tempfile

FOLDER = tempfile.mkdtemp()


async def save_and_read(name, text):
    path = pathlib.Path(FOLDER) / name
    path.write_text(text)
    back = path.read_text()
    with open(path) as f:  # `with open(...)`: never fixed
        first = f.read(3)
    size = len(open(path).read())
    return back, first, size


async def child():
    done = subprocess.run([sys.executable, "-c", "print('child ran')"], capture_output=True, text=True)
    return done.stdout.strip(), done.returncode


async def main():
    print(await save_and_read("a.txt", "hello"))
    print(await child())
    print(sorted(os.listdir(FOLDER)))


asyncio.run(main())
