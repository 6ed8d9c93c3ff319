"""The creator's live figures, sent over the room's socket (the engine's ``Dashboard``
port): viewers now, unique, comments, orders, GMV, conversion, top products, and the
creator's earnings so far and per live hour."""

from __future__ import annotations

from typing import Any

from liveshop.analytics import queries
from liveshop.core.db import Database
from liveshop.creators import earnings
from liveshop.live import service as live_service


async def figures(session: Any, session_id: int) -> dict[str, Any]:
    live = await live_service.get_session(session, session_id)
    series = await queries.minute_series(session, session_id)
    audience = await queries.session_audience(session, live, series)
    buyers = await queries.session_buyers(session, session_id)
    top = await queries.top_products(session, session_id)
    mine = await earnings.one_session_earnings(session, live)
    return {
        "session_id": session_id,
        "status": live.status,
        "currency": live.currency,
        "viewers": audience.concurrent_now,
        "peak_viewers": audience.peak,
        "unique_viewers": audience.unique,
        "average_viewers": audience.average,
        "watch_seconds": audience.watch_seconds,
        "comments": live.comments_count,
        "orders": live.orders_count,
        "gmv_minor": live.gmv_minor,
        "buyers": buyers,
        "conversion_bp": buyers * 10_000 // audience.unique if audience.unique else None,
        "top_products": [
            {
                "product_id": t.product_id,
                "title": t.title,
                "units": t.units,
                "gross_minor": t.gross_minor,
            }
            for t in top
        ],
        "earnings_minor": mine.projected_total_minor,
        "earnings_per_hour_minor": mine.per_live_hour_minor,
        "live_minutes": mine.live_minutes,
        "series": [[m.minute, m.viewers, m.orders, m.gmv_minor] for m in series[-60:]],
    }


class LiveDashboard:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def figures(self, session_id: int) -> dict[str, Any]:
        async with self.db.session(deferred=True) as s:
            out = await figures(s, session_id)
            await s.rollback()
            return out
