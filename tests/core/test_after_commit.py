"""Publish after commit is a mechanism: callbacks queued in a transaction run only after it
commits, in order, and a rolled-back transaction publishes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core import domain_events
from liveshop.core.db import Database, on_commit


def _recorder(out: list[str], name: str):  # type: ignore[no-untyped-def]
    async def callback() -> None:
        out.append(name)

    return callback


async def test_callbacks_run_after_commit_in_order(db: Database) -> None:
    published: list[str] = []
    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        on_commit(session, _recorder(published, "first"))
        on_commit(session, _recorder(published, "second"))
        assert published == []  # nothing goes out while the transaction is open
        await session.commit()
        assert published == ["first", "second"]
        await session.commit()  # an empty commit runs nothing twice
    assert published == ["first", "second"]


async def test_a_rolled_back_transaction_publishes_nothing(db: Database) -> None:
    published: list[str] = []
    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        on_commit(session, _recorder(published, "lost"))
        await session.rollback()
        await session.execute(text("SELECT 1"))
        on_commit(session, _recorder(published, "kept"))
        await session.commit()
    assert published == ["kept"]


async def test_a_session_closed_without_commit_publishes_nothing(db: Database) -> None:
    published: list[str] = []
    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        on_commit(session, _recorder(published, "lost"))
    assert published == []


async def test_an_error_inside_the_transaction_publishes_nothing(db: Database) -> None:
    published: list[str] = []
    with pytest.raises(RuntimeError):
        async with db.session() as session, session.begin():
            on_commit(session, _recorder(published, "lost"))
            raise RuntimeError("the service failed")
    assert published == []


async def test_a_begin_block_that_commits_publishes(db: Database) -> None:
    published: list[str] = []
    async with db.session() as session:
        async with session.begin():
            await session.execute(text("SELECT 1"))
            on_commit(session, _recorder(published, "done"))
        await session.run_after_commit()
        assert published == ["done"]


async def test_a_rolled_back_savepoint_keeps_the_transactions_events(db: Database) -> None:
    published: list[str] = []
    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        on_commit(session, _recorder(published, "outer"))
        nested = await session.begin_nested()
        await nested.rollback()
        await session.commit()
    assert published == ["outer"]


async def test_a_failing_callback_does_not_stop_the_others(db: Database) -> None:
    published: list[str] = []

    async def broken() -> None:
        raise ValueError("broker down")

    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        on_commit(session, broken)
        on_commit(session, _recorder(published, "after"))
        await session.commit()
    assert published == ["after"]


@dataclass(frozen=True)
class _Happened(domain_events.DomainEvent):
    what: str


async def test_domain_event_handlers_run_inside_the_transaction(db: Database) -> None:
    seen: list[tuple[str, bool]] = []

    async def handler(session: AsyncSession, event: _Happened) -> None:
        seen.append((event.what, session.in_transaction()))

    domain_events.subscribe(_Happened, handler)
    domain_events.subscribe(_Happened, handler)  # once, however often subscribed
    try:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            await domain_events.announce(session, _Happened("refund"))
            await session.rollback()
    finally:
        domain_events.unsubscribe(_Happened, handler)
    assert seen == [("refund", True)]
    assert domain_events.subscribers(_Happened) == ()
