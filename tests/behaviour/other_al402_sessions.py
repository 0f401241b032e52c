"""AL402 (unsafe): a session or connection assigned and then used becomes `async with` / `with` around the
rest of the block. Results, returns and exceptions stay the same; every session and connection is closed when
the function is done (the stubs in other_stubs/ record those still open). What was committed stays
committed; closing rolls back only what was never committed, which the unclosed session never wrote either."""
import asyncio

from sqlalchemy import OPEN, TABLES, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
LegacyAsync = sessionmaker(async_engine, class_=AsyncSession)


async def count_users():
    session = AsyncSessionLocal()
    result = await session.execute(text("select count(*) from users"))
    return result.scalar_one()


async def user_name(user_id):
    session = LegacyAsync()
    # the old factory makes AsyncSession objects too
    user = await session.get("users", user_id)
    if user is None:
        raise LookupError(user_id)
    return user["name"]


def ping():
    conn = engine.connect()
    value = conn.execute(text("select 1")).scalar_one()
    return value


def add_user(name, commit):
    session = Session(engine)  # a sync session: `with`
    session.add({"id": len(TABLES["users"]) + 1, "name": name})
    if commit:
        session.commit()


async def main():
    print("users:", await count_users())
    print("user 2:", await user_name(2))
    try:
        await user_name(9)
    except LookupError as exc:
        print("user 9: LookupError", exc)
    print("ping:", ping())
    add_user("linus", commit=True)
    add_user("never", commit=False)
    print("names:", [row["name"] for row in TABLES["users"]])
    print("users:", await count_users())
    print("left open:", len(OPEN))


asyncio.run(main())
