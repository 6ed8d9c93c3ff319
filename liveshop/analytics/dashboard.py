"""The creator's live figures, sent over the room's socket (the engine's ``Dashboard``
port): viewers now, unique, comments, orders, GMV, conversion, top products, and the
creator's earnings so far and per live hour.

The earnings come from the creator's statement (ledger, accruals, contract: several
queries), and the room asks every few seconds: ``EarningsCache`` keeps each session's total
until its orders, GMV or status change, or ``max_age_s`` has passed (a refund that leaves
the show's counters alone shows within that). The per-hour figure is worked out afresh
from the cached total and the minutes live so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liveshop.analytics import queries
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators import earnings
from liveshop.creators.settlement import live_minutes
from liveshop.live import service as live_service
from liveshop.live.models import LiveSession

EARNINGS_MAX_AGE_S = 30.0
CACHED_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class _Total:
    key: tuple[object, ...]
    at: float
    total_minor: int


class EarningsCache:
    """A session's projected earnings, re-read only when they can have changed."""

    def __init__(
        self,
        max_age_s: float = EARNINGS_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_s = max_age_s
        self.clock = clock
        self.reads = 0
        self.hits = 0
        self._totals: dict[int, _Total] = {}

    async def total_minor(self, session: Any, live: LiveSession) -> int:
        key = (live.status, live.orders_count, live.gmv_minor, live.actual_end)
        now = self.clock()
        hit = self._totals.get(live.id)
        if hit is not None and hit.key == key and now - hit.at < self.max_age_s:
            self.hits += 1
            return hit.total_minor
        mine = await earnings.one_session_earnings(session, live)
        self.reads += 1
        if len(self._totals) >= CACHED_SESSIONS:
            self._totals.clear()
        self._totals[live.id] = _Total(key, now, mine.projected_total_minor)
        return mine.projected_total_minor


async def figures(
    session: Any, session_id: int, cache: EarningsCache | None = None
) -> dict[str, Any]:
    live = await live_service.get_session(session, session_id)
    series = await queries.minute_series(session, session_id)
    audience = await queries.session_audience(session, live, series)
    buyers = await queries.session_buyers(session, session_id)
    top = await queries.top_products(session, session_id)
    earned = await (cache or EarningsCache(max_age_s=0)).total_minor(session, live)
    minutes = live_minutes(live, utcnow())
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
        "earnings_minor": earned,
        "earnings_per_hour_minor": earnings.per_hour(earned, minutes),
        "live_minutes": minutes,
        "series": [[m.minute, m.viewers, m.orders, m.gmv_minor] for m in series[-60:]],
    }


class LiveDashboard:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.earnings = EarningsCache()

    async def figures(self, session_id: int) -> dict[str, Any]:
        async with self.db.session(deferred=True) as s:
            out = await figures(s, session_id, self.earnings)
            await s.rollback()
            return out
