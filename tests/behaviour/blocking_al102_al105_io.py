"""AL102/AL105: a name lookup and a sqlite database inside `async def`. A sqlite3 connection may only be used
by the thread that created it, so moving its calls into worker threads would change the program."""
import asyncio
import socket
import sqlite3


async def lookup():
    infos = socket.getaddrinfo("127.0.0.1", 8080, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


async def database():
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (x integer)")
    conn.execute("insert into t values (1), (2)")
    rows = conn.execute("select x from t order by x").fetchall()
    conn.close()
    return rows


async def main():
    print(await lookup())
    print(await database())


asyncio.run(main())
