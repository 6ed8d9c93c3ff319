"""Which creator an order is attributed to, and the commission rate of each of its lines.

A buyer cannot simply name a creator. The creator comes from

1. the live session the order was placed in, while it is live (the session's creator), or
2. the buyer's own click on a creator's showcase or replay link for that product within the
   last 7 days (last click wins; only the clicked products earn commission).

Otherwise there is no attribution. Each attributed line carries the plan rate in force at the
moment of purchase (``plans.commission_rate_bp``), frozen on the order line by checkout.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import get_user
from liveshop.catalog.products import get_product
from liveshop.catalog.service import SkuOffer, get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Problem, Unprocessable
from liveshop.creators.models import AttributionClick
from liveshop.creators.plans import commission_rate_bp
from liveshop.live.models import SessionStatus
from liveshop.live.service import get_session
from liveshop.orders.checkout import Attribution

ATTRIBUTION_WINDOW = timedelta(days=7)


async def ensure_creator(session: AsyncSession, creator_id: int) -> None:
    try:
        user = await get_user(session, creator_id)
    except NotFound as exc:
        raise NotFound(f"creator {creator_id} does not exist", code="creator-not-found") from exc
    if Role.CREATOR not in user.role_names:
        raise NotFound(f"creator {creator_id} does not exist", code="creator-not-found")


async def record_click(
    session: AsyncSession, *, buyer_id: int, creator_id: int, product_id: int
) -> AttributionClick:
    """The buyer followed the creator's link to the product. Commits."""
    await ensure_creator(session, creator_id)
    try:
        await get_product(session, product_id)
    except NotFound as exc:
        raise Unprocessable(
            f"product {product_id} does not exist", code="unknown-product", product_id=product_id
        ) from exc
    click = AttributionClick(
        buyer_id=buyer_id, creator_id=creator_id, product_id=product_id, clicked_at=utcnow()
    )
    session.add(click)
    await session.commit()
    return click


async def _clicks(
    session: AsyncSession, *, buyer_id: int, product_ids: Sequence[int], at: datetime
) -> dict[int, tuple[int, datetime]]:
    """Product -> (creator, time) of the buyer's latest click inside the window."""
    rows = await session.execute(
        select(
            AttributionClick.product_id, AttributionClick.creator_id, AttributionClick.clicked_at
        )
        .where(
            AttributionClick.buyer_id == buyer_id,
            AttributionClick.product_id.in_(list(product_ids)),
            AttributionClick.clicked_at > at - ATTRIBUTION_WINDOW,
            AttributionClick.clicked_at <= at,
        )
        .order_by(AttributionClick.clicked_at, AttributionClick.id)
    )
    latest: dict[int, tuple[int, datetime]] = {}
    for product_id, creator_id, clicked_at in rows.all():
        latest[int(product_id)] = (int(creator_id), clicked_at)  # later rows win
    return latest


async def _rates(
    session: AsyncSession, creator_id: int, offers: Sequence[SkuOffer], at: datetime
) -> dict[int, int]:
    out: dict[int, int] = {}
    for offer in offers:
        if offer.product_id not in out:
            out[offer.product_id] = await commission_rate_bp(
                session,
                creator_id=creator_id,
                product_id=offer.product_id,
                category=offer.category,
                shop_id=offer.shop_id,
                at=at,
            )
    return out


async def creator_rates_for(
    session: AsyncSession,
    *,
    creator_id: int,
    market_code: str,
    sku_ids: Sequence[int],
    at: datetime | None = None,
) -> dict[int, int]:
    """The creator's commission rates (bp per product) in force at ``at`` for these SKUs:
    what a purchase in the creator's own room freezes on the order. Raises the catalog's
    problem for a SKU not on sale in the market."""
    offers = [await get_sku_offer(session, sku_id, market_code) for sku_id in sku_ids]
    return await _rates(session, creator_id, offers, at or utcnow())


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
                f"live session {live_session_id} does not exist",
                code="unknown-live-session",
                live_session_id=live_session_id,
            ) from exc
        if live.status == SessionStatus.LIVE:
            rates = await _rates(session, live.creator_id, offers, when)
            return Attribution(
                live_session_id=live.id, creator_id=live.creator_id, creator_rates=rates
            )
    clicks = await _clicks(
        session, buyer_id=buyer_id, product_ids=[o.product_id for o in offers], at=when
    )
    if creator_id is not None:
        clicks = {p: c for p, c in clicks.items() if c[0] == creator_id}
    if not clicks:
        return Attribution(live_session_id=live_session_id) if live_session_id else None
    # One creator per order: the one clicked last; only the products they brought earn.
    winner = max(clicks.values(), key=lambda c: c[1])[0]
    brought = [o for o in offers if clicks.get(o.product_id, (None,))[0] == winner]
    rates = await _rates(session, winner, brought, when)
    return Attribution(live_session_id=live_session_id, creator_id=winner, creator_rates=rates)
