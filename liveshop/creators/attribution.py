"""Which creator an order is attributed to, and the commission rate of each of its lines.

A buyer cannot simply name a creator. The creator comes from

1. the live session the order was placed in, while it is live (the session's creator), or
2. the buyer's own click on a creator's showcase or replay link for that product within the
   last 7 days (last click wins; only the clicked products earn commission).

Otherwise there is no attribution. Each attributed line carries the plan rate in force at the
moment of purchase (``affiliates.rates.commission_rate_bp``), frozen on the order line by checkout.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.clicks import latest_clicks
from liveshop.affiliates.rates import rates_for_offers
from liveshop.catalog.service import get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Problem, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live.models import SessionStatus
from liveshop.live.service import get_session
from liveshop.orders.lines import Attribution


async def resolve_checkout_attribution(
    session: AsyncSession,
    *,
    buyer_id: int,
    market_code: str,
    sku_ids: Sequence[int],
    live_session_id: int | None = None,
    creator_id: int | None = None,
    at: datetime | None = None,
) -> Attribution | None:
    """The attribution checkout should freeze on the order (None: nobody earns commission).

    ``creator_id`` from the buyer only narrows the click lookup to that creator; it never
    makes a creator earn on its own.
    """
    when = at or utcnow()
    try:
        offers = [await get_sku_offer(session, sku_id, market_code) for sku_id in sku_ids]
    except Problem:
        return None  # checkout itself reports what is wrong with the lines, in its own order
    if live_session_id is not None:
        try:
            live = await get_session(session, live_session_id)
        except NotFound as exc:
            raise Unprocessable(
                _(
                    "live session %(live_session_id)s does not exist",
                    live_session_id=live_session_id,
                ),
                code="unknown-live-session",
                live_session_id=live_session_id,
            ) from exc
        if live.status == SessionStatus.LIVE:
            rates = await rates_for_offers(session, live.creator_id, offers, when)
            return Attribution(
                live_session_id=live.id, creator_id=live.creator_id, creator_rates=rates
            )
    clicks = await latest_clicks(
        session, buyer_id=buyer_id, product_ids=[o.product_id for o in offers], at=when
    )
    if creator_id is not None:
        clicks = {p: c for p, c in clicks.items() if c[0] == creator_id}
    if not clicks:
        return Attribution(live_session_id=live_session_id) if live_session_id else None
    # One creator per order: the one clicked last; only the products they brought earn.
    winner = max(clicks.values(), key=lambda c: c[1])[0]
    brought = [o for o in offers if clicks.get(o.product_id, (None,))[0] == winner]
    rates = await rates_for_offers(session, winner, brought, when)
    return Attribution(live_session_id=live_session_id, creator_id=winner, creator_rates=rates)
