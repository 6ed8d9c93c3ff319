"""Room events of a transaction go out only once it commits, in the order queued, and a
rolled-back transaction publishes nothing (``RoomPublisher.on_commit``)."""

from __future__ import annotations

from sqlalchemy import text

from liveshop.core.broker import make_broker
from liveshop.core.db import Database
from liveshop.core.events import EventType, decode
from liveshop.realtime.publish import RoomPublisher, room_channel


async def test_room_events_wait_for_the_commit_and_die_with_a_rollback(db: Database) -> None:
    broker = make_broker("memory://")
    publisher = RoomPublisher(broker)
    channel = room_channel(7)
    try:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            lost = publisher.on_commit(session)
            lost.publish(7, EventType.PIN, {"product": None})
            await session.rollback()
            assert await broker.last_seq(channel) == 0 and lost.last_seq is None

            await session.execute(text("SELECT 1"))
            room = publisher.on_commit(session)
            room.publish(7, EventType.SESSION_STARTED, {"at": None})
            room.publish(7, EventType.PIN, {"product": None})
            assert await broker.last_seq(channel) == 0  # nothing while the transaction is open
            await session.commit()
            assert room.seqs == [1, 2] and room.last_seq == 2

            one = publisher.publish_on_commit(session, 7, EventType.LIKE, {"count": 3})
            await session.commit()
            assert one.seqs == [3]
        kinds = [decode(raw)["type"] for raw in await broker.history(channel)]
        assert kinds == ["session_started", "pin", "like"]
    finally:
        await broker.close()
