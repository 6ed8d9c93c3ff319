"""SQLite's writers in one process: served in the order they arrive, and a writer that fails,
is cancelled or rolls back never keeps the others waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from liveshop.core.db import Database, write_gate


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE served (n INTEGER NOT NULL)"))
    yield db  # type: ignore[misc]
    await db.dispose()


async def served(db: Database) -> list[int]:
    async with db.session(deferred=True) as s:
        return list((await s.execute(text("SELECT n FROM served ORDER BY rowid"))).scalars())


async def test_writers_are_served_in_the_order_they_arrive(sqlite_db: Database) -> None:
    """Like buyers tapping a flash deal one after another while a checkout holds the lock."""
    first_in, let_go = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with sqlite_db.session() as s:
            await s.execute(text("INSERT INTO served VALUES (0)"))
            first_in.set()
            await let_go.wait()
            await s.commit()

    async def writer(n: int) -> None:
        async with sqlite_db.session() as s:
            await s.execute(text("INSERT INTO served VALUES (:n)"), {"n": n})
            await s.commit()

    held = asyncio.create_task(holder())
    await first_in.wait()
    writers = []
    gate = write_gate(sqlite_db.engine)
    assert gate is not None
    for n in range(1, 41):  # each arrives (is queued) before the next one starts
        writers.append(asyncio.create_task(writer(n)))
        async with asyncio.timeout(5):
            while gate.waiting < n:  # noqa: ASYNC110 - a count, not an event, to wait on
                await asyncio.sleep(0)
    let_go.set()
    await asyncio.gather(held, *writers)
    assert await served(sqlite_db) == list(range(41))


async def test_a_failed_rolled_back_or_cancelled_writer_lets_the_next_one_in(
    sqlite_db: Database,
) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused):  # an error inside the transaction
        async with sqlite_db.session() as s:
            await s.execute(text("INSERT INTO served VALUES (1)"))
            raise Refused

    async with sqlite_db.session() as s:  # an explicit rollback
        await s.execute(text("INSERT INTO served VALUES (2)"))
        await s.rollback()

    inside = asyncio.Event()

    async def stuck() -> None:
        async with sqlite_db.session() as s:
            await s.execute(text("INSERT INTO served VALUES (3)"))
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()  # a request whose client went away mid-transaction
    with pytest.raises(asyncio.CancelledError):
        await task

    async with asyncio.timeout(5), sqlite_db.session() as s:
        await s.execute(text("INSERT INTO served VALUES (4)"))
        await s.commit()
    assert await served(sqlite_db) == [4]
