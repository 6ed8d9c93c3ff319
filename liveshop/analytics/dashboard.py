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

from typing import Any

from liveshop.analytics import queries
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators import earnings
from liveshop.creators.settlement import live_minutes
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.service import latest_posting_id
from liveshop.live import service as live_service
from liveshop.live.models import LiveSession

# session id -> (what the figures were read at, the creator's earnings in the show)
EarningsCache = dict[int, tuple[tuple[int, str, int, int, int], earnings.SessionEarnings]]
CACHE_ROOMS = 2_000


async def show_earnings(
    session: Any, live: LiveSession, cache: EarningsCache | None = None
) -> earnings.SessionEarnings:
    """The creator's earnings in the show, read again only when something they depend on
    moved: a posting on the creator's payable account (a sale, a refund, a fee, a bonus or
    its reversal), the show's orders or GMV, its status, or another live minute. Otherwise
    the last figures are reused: one indexed look-up every few seconds instead of reading
    the creator's whole statement."""
    if cache is None:
        return await earnings.one_session_earnings(session, live)
    account = payable_account(PartyKind.CREATOR, live.creator_id, live.currency)
    key = (
        await latest_posting_id(session, account),
        str(live.status),
        live.orders_count,
        live.gmv_minor,
        live_minutes(live, utcnow()),
    )
    found = cache.get(live.id)
    if found is not None and found[0] == key:
        return found[1]
    mine = await earnings.one_session_earnings(session, live)
    if len(cache) >= CACHE_ROOMS:
        cache.clear()
    cache[live.id] = (key, mine)
    return mine


def earnings_frame(mine: earnings.SessionEarnings) -> dict[str, Any]:
    """The studio's "Your earnings this show", as the page first draws it."""
    return {
        "base_fee_minor": mine.base_fee_minor,
        "base_fee_status": mine.base_fee_status,
        "bonus_minor": mine.bonus_minor,
        "commission_pending_minor": mine.commission_pending_minor,
        "commission_payable_minor": mine.commission_payable_minor,
        "projected_total_minor": mine.projected_total_minor,
        "per_live_hour_minor": mine.per_live_hour_minor,
        "live_minutes": mine.live_minutes,
        "per_hour_after_minutes": earnings.PER_HOUR_MIN_MINUTES,
    }


async def figures(
    session: Any, session_id: int, cache: EarningsCache | None = None
) -> dict[str, Any]:
    live = await live_service.get_session(session, session_id)
    series = await queries.minute_series(session, session_id)
    audience = await queries.session_audience(session, live, series)
    buyers = await queries.session_buyers(session, session_id)
    top = await queries.top_products(session, session_id)
    mine = await show_earnings(session, live, cache)
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
        "my_earnings": earnings_frame(mine),
        "series": [[m.minute, m.viewers, m.orders, m.gmv_minor] for m in series[-60:]],
    }


class LiveDashboard:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.earnings: EarningsCache = {}

    async def figures(self, session_id: int) -> dict[str, Any]:
        async with self.db.session(deferred=True) as s:
            out = await figures(s, session_id, self.earnings)
            await s.rollback()
            return out
