"""The session domain's answers to the realtime engine (``realtime.ports.RoomDirectory``):
what a room starts from, who hosts it, where its audience numbers are kept.

Each opens a short database session of its own (a room lives for hours and must not hold a
pooled connection), except ``record_stats``, which writes in the caller's (on SQLite a
second writer would wait for the first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live import activity, service
from liveshop.live.auctions import service as auctions
from liveshop.live.deals import service as deals
from liveshop.live.giveaways import service as giveaways
from liveshop.live.models import LiveSession
from liveshop.live.polls import service as polls
from liveshop.realtime.ports import RoomSnapshot, RoomStats


def session_info(live: LiveSession) -> dict[str, object]:
    """The session as rooms show it (their snapshot's ``session``)."""

    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v is not None else None

    return {
        "id": live.id,
        "title": live.title,
        "status": live.status,
        "creator_id": live.creator_id,
        "market": live.market_code,
        "currency": live.currency,
        "planned_start": iso(live.planned_start),
        "planned_duration_minutes": live.planned_duration_minutes,
        "actual_start": iso(live.actual_start),
        "actual_end": iso(live.actual_end),
    }


class LiveRoomDirectory:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def snapshot(self, session_id: int, *, comments: int) -> RoomSnapshot:
        """Session, pinned product (price, stock), running deal, the lot up for auction, the
        giveaway, the poll, the question answered now and last comments."""
        async with self.db.session(deferred=True) as s:
            live = await service.get_session(s, session_id)
            pinned = await service.pinned_product(s, live)
            recent = await activity.recent_comments(s, session_id, limit=comments)
            running = await deals.active_deal(s, session_id)
            lot = await auctions.running_auction(s, session_id)
            lot_view = await auctions.room_view(s, lot) if lot is not None else None
            giveaway = await giveaways.room_giveaway(s, session_id)
            giveaway_view = await giveaways.view(s, giveaway) if giveaway is not None else None
            poll = await polls.room_poll(s, session_id)
            answering = await polls.answering_now(s, session_id)
            await s.commit()  # reading stock may release expired holds
        return RoomSnapshot(
            session=session_info(live),
            pinned=pinned.to_event() if pinned is not None else None,
            deal=deals.deal_event(running) if running is not None else None,
            comments=recent,
            auction=lot_view,
            giveaway=giveaway_view,
            poll=polls.poll_fields(poll) if poll is not None else None,
            answering=answering,
        )

    async def is_host(self, session_id: int, user_id: int) -> bool:
        async with self.db.session(deferred=True) as s:
            live = await service.get_session(s, session_id)
            return await service.is_host(s, user_id, live)

    async def record_stats(self, session: AsyncSession, session_id: int, stats: RoomStats) -> None:
        """Peak, time-weighted average viewers (over the time the session was live) and
        likes on the session row; nothing before it went live."""
        live = await service.get_session(session, session_id)
        if live.actual_start is None:
            await session.rollback()
            return
        until = live.actual_end or utcnow()
        live_ms = max((until - live.actual_start).total_seconds() * 1000, 1.0)
        await activity.record_room_stats(
            session,
            session_id,
            peak_viewers=stats.peak_viewers,
            avg_viewers=round(stats.viewer_ms / live_ms),
            likes=stats.likes,
        )
