"""Checking out a claim: the held units become an order at the deal price (then paid).

The claim's hold (a HELD child of the deal's hold) is the order line's reservation, exactly
as a direct room buy's split is; the claim's guarded ``held → ordered`` UPDATE and its
``order_id`` go into the checkout's own transaction, so a claim becomes one order at most
(and an ordered claim always names it), and a checkout that fails (a price that changed, a
refused line) leaves the claim held as it was. The order's hold runs
out when the claim's would have. Its per-buyer units were counted by the claim: an order
cancelled unpaid gives them back like any deal order (``limits.give_back_unpaid``).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.live import service as live
from liveshop.live.deals.claim_upkeep import get_claim
from liveshop.live.deals.held_order import place_held_order
from liveshop.live.deals.models import ClaimStatus, DealClaim
from liveshop.live.deals.service import get_deal, room_attribution
from liveshop.orders.checkout import PlacedOrder, find_by_idempotency_key
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.quote import Quote, quote_order


def claim_key(claim_id: int) -> str:
    return f"claim-{claim_id}"


async def checkout_claim(
    session: AsyncSession,
    claim_id: int,
    *,
    buyer_id: int,
    expected_total_minor: int | None = None,
    address_id: int | None = None,
    coupon_code: str | None = None,
) -> PlacedOrder:
    """The claim's order (created now, or the one it already became). Commits.
    ``coupon_code``: the shop's coupon the buyer typed (an unknown or used-up one is refused
    and the claim stays held)."""
    claim = await get_claim(session, claim_id, buyer_id)
    key = claim_key(claim.id)
    if claim.status == ClaimStatus.ORDERED:
        existing = await find_by_idempotency_key(session, buyer_id, key)
        if existing is not None:
            return PlacedOrder(order=existing, replayed=True)
    now = utcnow()
    if claim.status != ClaimStatus.HELD or claim.expires_at <= now:
        raise Conflict(
            _("this claim's hold has run out: its units went back to the drop"),
            code="claim-expired",
            claim_id=claim.id,
        )
    deal = await get_deal(session, claim.deal_id)
    session_row = await live.get_session(session, deal.session_id)
    taken = await session.scalar(
        update(DealClaim)
        .where(
            DealClaim.id == claim.id,
            DealClaim.status == ClaimStatus.HELD,
            DealClaim.expires_at > now,
        )
        .values(status=ClaimStatus.ORDERED)
        .returning(DealClaim.id)
        .execution_options(synchronize_session=False)
    )
    if taken is None:
        await session.rollback()
        raise Conflict(_("this claim is no longer held"), code="claim-expired", claim_id=claim_id)

    async def link(order: Order) -> None:  # in the order's own transaction
        await session.execute(
            update(DealClaim)
            .where(DealClaim.id == claim.id)
            .values(order_id=order.id)
            .execution_options(synchronize_session=False)
        )

    line = CheckoutLine(
        sku_id=deal.sku_id,
        quantity=claim.quantity,
        unit_price_minor=deal.price_minor,
        deal_id=deal.id,
        reservation_id=claim.reservation_id,
    )
    return await place_held_order(
        session,
        session_row,
        line,
        buyer_id=buyer_id,
        key=key,
        hold_for=claim.expires_at - now,
        link=link,
        expected_total_minor=expected_total_minor,
        address_id=address_id,
        coupon_code=coupon_code,
    )


async def quote_claim(
    session: AsyncSession, claim_id: int, *, buyer_id: int, coupon_code: str | None = None
) -> Quote:
    """What checking out the held claim would charge now (the checkout's pricing run dry):
    its units at the deal price, campaigns, shipping, tax. Nothing is taken."""
    claim = await get_claim(session, claim_id, buyer_id)
    if claim.status not in (ClaimStatus.HELD, ClaimStatus.ORDERED) or (
        claim.status == ClaimStatus.HELD and claim.expires_at <= utcnow()
    ):
        raise Conflict(
            _("this claim's hold has run out: its units went back to the drop"),
            code="claim-expired",
            claim_id=claim.id,
        )
    deal = await get_deal(session, claim.deal_id)
    session_row = await live.get_session(session, deal.session_id)
    return await quote_order(
        session,
        buyer_id=buyer_id,
        market_code=session_row.market_code,
        lines=[
            CheckoutLine(
                sku_id=deal.sku_id,
                quantity=claim.quantity,
                unit_price_minor=deal.price_minor,
                deal_id=deal.id,
            )
        ],
        attribution=await room_attribution(session, session_row, deal.sku_id),
        coupon_code=coupon_code,
    )
