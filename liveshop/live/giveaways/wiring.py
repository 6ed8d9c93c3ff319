"""Plugging giveaways, polls and Q&A in: the node's throttled room counts, and a closed
room's open giveaway called off (its unit back on sale)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core import domain_events
from liveshop.live.counts import RoomCounts
from liveshop.live.events import SessionClosed
from liveshop.live.giveaways import service
from liveshop.realtime.publish import room_publisher


async def cancel_closed_rooms_giveaway(session: AsyncSession, event: SessionClosed) -> None:
    await service.cancel_open(session, [event.live_session_id])
    await session.commit()


def subscribe() -> None:
    """Idempotent (``liveshop.wiring.install_domain_events``)."""
    domain_events.subscribe(SessionClosed, cancel_closed_rooms_giveaway)


def install_engagement(app: FastAPI) -> RoomCounts:
    counts = RoomCounts(lambda: room_publisher(app))
    app.state.room_counts = counts
    return counts
