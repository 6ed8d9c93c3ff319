"""A seller's coupon on an order already placed and not yet paid (the pay page's coupon box).

The order is re-priced by the code that priced it (``orders.pricing``): the coupon, found and
claimed through the promotions service, is spread over the lines in proportion to their
prices, and each line's tax and commissions are computed again on its lower price **at the
rates frozen on the line** (a rate changed since the checkout does not apply). The units
held, the deal prices, the shipping and any platform campaign the order took stay as they
were (a campaign's discount is spread again over the lower prices). One coupon per order: an
order that has one keeps it.

Under a lock of the order's row, in one transaction: the order must be the buyer's, unpaid and
with no payment in flight (409 ``payment-in-progress``), so no charge is made for a total the
order no longer has. ``dry_run`` says what the order would cost (the pay page's re-quote)
and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.markets.service import get_market
from liveshop.orders import pricing
from liveshop.orders.completion import IN_FLIGHT
from liveshop.orders.models import Order, OrderLine, Payment
from liveshop.orders.status import OrderStatus
from liveshop.promotions import campaigns, claims, coupons


@dataclass(frozen=True, slots=True)
class Requote:
    code: str
    discount_minor: int
    items_minor: int
    tax_minor: int
    total_minor: int
    was_total_minor: int


async def _locked_order(session: AsyncSession, order_id: int, buyer_id: int) -> Order:
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(_("order %(id)s does not exist", id=order_id), code="order-not-found")
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(
            _("an order that is %(status)s cannot take a coupon", status=order.status),
            code="order-not-payable",
        )
    busy = await session.scalar(
        select(Payment.id).where(
            Payment.order_id == order.id, Payment.status.in_([str(s) for s in IN_FLIGHT])
        )
    )
    if busy is not None:
        raise Conflict(
            _("a payment for this order is already in progress"), code="payment-in-progress"
        )
    if await coupons.order_has_coupon(session, order.id):
        raise Conflict(_("this order already has a coupon"), code="coupon-already-applied")
    return order


async def apply_coupon(
    session: AsyncSession, *, order_id: int, buyer_id: int, code: str, dry_run: bool = False
) -> Requote:
    """Re-price the buyer's unpaid order with the seller's coupon ``code`` and (unless
    ``dry_run``) keep it: claimed, recorded and the order's amounts changed. Commits (a dry
    run rolls back)."""
    clean = code.strip().upper()
    if not clean:
        raise Unprocessable(_("type a coupon code"), code="unknown-coupon")
    try:
        order = await _locked_order(session, order_id, buyer_id)
        market = await get_market(session, order.market_code)
        lines: list[OrderLine] = sorted(order.lines, key=lambda ln: ln.id)
        prices = [ln.unit_price_minor * ln.quantity for ln in lines]
        claimed = await pricing.seller_coupon(
            session,
            buyer_id=buyer_id,
            shop_id=order.shop_id,
            market_code=order.market_code,
            code=clean,
            goods_minor=sum(prices),
            at=utcnow(),
            dry_run=dry_run,
        )
        if claimed is None:
            raise Unprocessable(
                _("this coupon takes nothing off this order"), code="coupon-does-not-apply"
            )
        was = order.total_minor
        for ln, share in zip(lines, campaigns.spread(claimed.amount_minor, prices), strict=True):
            pricing.reprice_line(market, ln, share)
        items = sum(ln.gross_minor for ln in lines)
        if order.subsidy_minor > items:
            raise Conflict(
                _("the platform's discount on this order cannot be combined with this coupon"),
                code="coupon-not-combinable",
            )
        for ln, part in zip(
            lines,
            campaigns.spread(order.subsidy_minor, [ln.gross_minor for ln in lines]),
            strict=True,
        ):
            ln.subsidy_minor = part
        order.items_minor = items
        order.tax_minor = sum(ln.tax_minor for ln in lines) + order.shipping_tax_minor
        order.total_minor = (
            items - order.subsidy_minor + order.shipping_minor - order.shipping_subsidy_minor
        )
        out = Requote(
            code=clean,
            discount_minor=claimed.amount_minor,
            items_minor=order.items_minor,
            tax_minor=order.tax_minor,
            total_minor=order.total_minor,
            was_total_minor=was,
        )
        if dry_run:
            await session.rollback()
            return out
        claims.record_claims(
            session, order_id=order.id, buyer_id=buyer_id, subsidy=None, coupon=claimed
        )
        order.updated_at = utcnow()
        await session.commit()
        return out
    except BaseException:
        await session.rollback()
        raise
