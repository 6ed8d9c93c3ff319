"""Checking out units a buyer already holds in a live room (a drop's claim, a shelf claim).

Both become an order the same way: the room's attribution, the buyer's chosen (or default)
address in the room's market, the hold's reservation as the order line's, the order's hold
running out when the claim's would have, and the claim's own link written by ``link`` in
the order's transaction (``place_order``'s ``before_commit``). Only the line and the link
differ between them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.addresses.service import ship_to
from liveshop.live.deals.service import room_attribution
from liveshop.live.models import LiveSession
from liveshop.orders.checkout import PlacedOrder, place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order


async def place_held_order(
    session: AsyncSession,
    room: LiveSession,
    line: CheckoutLine,
    *,
    buyer_id: int,
    key: str,
    hold_for: timedelta,
    link: Callable[[Order], Awaitable[None]],
    expected_total_minor: int | None,
    address_id: int | None,
    coupon_code: str | None,
) -> PlacedOrder:
    """The held line's order in ``room`` (commits, or raises what ``place_order`` does)."""
    return await place_order(
        session,
        buyer_id=buyer_id,
        market_code=room.market_code,
        lines=[line],
        idempotency_key=key,
        attribution=await room_attribution(session, room, line.sku_id),
        hold_for=hold_for,
        expected_total_minor=expected_total_minor,
        before_commit=link,
        ship_to=await ship_to(session, buyer_id, room.market_code, address_id),
        coupon_code=coupon_code,
    )
