"""Checkout: one transaction that snapshots prices, holds stock and creates the order.

Stock is held by the inventory domain's conditional UPDATE, so concurrent checkouts can never
hold more than exists; the idempotency key makes a retried request return the same order.

Shipping is the market's flat fee per (one-shop) order, split into net and tax like a price
and frozen on the order; a free-shipping campaign of the market may pay it (or part of it,
up to its per-order cap) instead of the buyer. The buyer pays
``items − subsidy + shipping − shipping subsidy``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.service import SkuOffer, get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.money import split_rate
from liveshop.core.settings import get_settings
from liveshop.creators import incentives
from liveshop.inventory import service as inventory
from liveshop.markets.models import Market
from liveshop.markets.service import (
    ensure_sellable,
    platform_commission_bp,
    shipping_breakdown,
    tax_breakdown,
)
from liveshop.orders.models import Order, OrderEvent, OrderLine
from liveshop.orders.status import OrderStatus

MAX_LINES = 50
MAX_QUANTITY = 999


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    sku_id: int
    quantity: int
    # Set by trusted callers only (a live room's flash deal): the deal price and the units
    # already held for this buyer out of the deal's allocation.
    unit_price_minor: int | None = None
    reservation_id: int | None = None
    deal_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    """Through whom the order was bought; commissions are computed from it."""

    live_session_id: int | None = None
    creator_id: int | None = None
    creator_commission_bp: int = 0  # every line's rate unless ``creator_rates`` names it
    # Product id -> rate (bp) in force at purchase (liveshop.creators.attribution resolves it).
    # Derived from the attribution, so it is not part of the request's fingerprint.
    creator_rates: dict[int, int] | None = None

    def rate_for(self, product_id: int) -> int:
        if self.creator_id is None:
            return 0
        if self.creator_rates is not None and product_id in self.creator_rates:
            return self.creator_rates[product_id]
        return self.creator_commission_bp


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Order
    replayed: bool  # True when the idempotency key had already produced this order


def fingerprint(
    market_code: str,
    lines: Sequence[CheckoutLine],
    attribution: Attribution | None,
    coupon_code: str | None = None,
) -> str:
    who = None
    if attribution is not None:
        who = {k: v for k, v in asdict(attribution).items() if k != "creator_rates"}
    payload: dict[str, object] = {
        "market": market_code.upper(),
        "lines": sorted([ln.sku_id, ln.quantity, ln.unit_price_minor, ln.deal_id] for ln in lines),
        "attribution": who,
    }
    if coupon_code:
        payload["coupon"] = coupon_code.strip().upper()
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def find_by_idempotency_key(session: AsyncSession, buyer_id: int, key: str) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.buyer_id == buyer_id, Order.idempotency_key == key)
    )


def _validate_lines(lines: Sequence[CheckoutLine]) -> None:
    if not lines:
        raise Unprocessable("the order has no lines", code="empty-order")
    if len(lines) > MAX_LINES:
        raise Unprocessable(f"at most {MAX_LINES} lines per order", code="too-many-lines")
    seen: set[int] = set()
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise Unprocessable(
                f"quantity must be 1 to {MAX_QUANTITY}", code="bad-quantity", sku_id=line.sku_id
            )
        if line.sku_id in seen:
            raise Unprocessable(
                "each SKU may appear once", code="duplicate-sku", sku_id=line.sku_id
            )
        seen.add(line.sku_id)


def _replay(existing: Order, fp: str) -> PlacedOrder:
    if existing.request_fingerprint != fp:
        raise Conflict(
            "this Idempotency-Key was used for a different checkout",
            code="idempotency-key-reused",
            order_id=existing.id,
        )
    return PlacedOrder(order=existing, replayed=True)


def _unit(offer: SkuOffer, line: CheckoutLine) -> int:
    unit = offer.price_minor if line.unit_price_minor is None else line.unit_price_minor
    if unit < 0:
        raise Unprocessable("a price cannot be negative", code="bad-price")
    return unit


async def _priced_line(
    session: AsyncSession,
    market: Market,
    offer: SkuOffer,
    line: CheckoutLine,
    creator_bp: int,
    seller_discount: int = 0,
) -> OrderLine:
    """``seller_discount`` (a coupon's share of this line) lowers the price the line is sold
    at, so tax, commissions and the seller's net are all computed on the lower price."""
    unit = _unit(offer, line)
    split = tax_breakdown(market, unit * line.quantity - seller_discount)
    net = split.gross_minor - split.tax_minor
    platform_bp = await platform_commission_bp(session, market, offer.category)
    platform = split_rate(net, platform_bp)
    creator = split_rate(net, creator_bp)
    seller = split.gross_minor - split.tax_minor - platform - creator
    if seller < 0:
        raise Unprocessable("commission rates exceed the price", code="bad-commission")
    return OrderLine(
        sku_id=offer.sku_id,
        product_id=offer.product_id,
        title=offer.title,
        sku_code=offer.sku_code,
        attributes=offer.attributes,
        category=offer.category,
        image_url=offer.image_url,
        quantity=line.quantity,
        list_price_minor=offer.price_minor,
        unit_price_minor=unit,
        gross_minor=split.gross_minor,
        subsidy_minor=0,
        tax_minor=split.tax_minor,
        platform_commission_bp=platform_bp,
        platform_commission_minor=platform,
        creator_commission_bp=creator_bp,
        creator_commission_minor=creator,
        seller_net_minor=seller,
        deal_id=line.deal_id,
    )


async def _claim_coupon(
    session: AsyncSession,
    buyer_id: int,
    shop_id: int,
    market_code: str,
    code: str | None,
    goods_minor: int,
    at: datetime,
) -> incentives.Claimed | None:
    """The seller's coupon for this order, claimed (a named code that cannot be used is a
    4xx; an auto-applied one that ran out simply does not apply)."""
    coupon = await incentives.find_coupon(
        session, shop_id=shop_id, market_code=market_code, code=code, at=at
    )
    if coupon is None:
        return None
    amount = incentives.coupon_discount(coupon, goods_minor)
    if amount <= 0:
        return None
    if not await incentives.claim_coupon(session, coupon, buyer_id):
        if code:
            raise Conflict(
                "this coupon has been used up (or you used it as often as allowed)",
                code="coupon-used-up",
            )
        return None
    return incentives.Claimed(coupon.id, amount)


async def place_order(
    session: AsyncSession,
    *,
    buyer_id: int,
    market_code: str,
    lines: Sequence[CheckoutLine],
    idempotency_key: str,
    attribution: Attribution | None = None,
    hold_for: timedelta | None = None,
    coupon_code: str | None = None,
) -> PlacedOrder:
    """Create a pending_payment order with its stock held, or replay the keyed one. Commits.

    A seller's coupon (``coupon_code``, or the shop's auto-applied one) lowers the prices; a
    platform subsidy campaign of the market may pay part of what the buyer owes. Both are
    claimed with conditional UPDATEs in this transaction, so a failed checkout gives back
    what it claimed.
    """
    if not 1 <= len(idempotency_key) <= 100:
        raise Unprocessable("Idempotency-Key must be 1-100 characters", code="bad-idempotency-key")
    _validate_lines(lines)
    fp = fingerprint(market_code, lines, attribution, coupon_code)
    existing = await find_by_idempotency_key(session, buyer_id, idempotency_key)
    if existing is not None:
        return _replay(existing, fp)

    market = await ensure_sellable(session, market_code)
    offers = [await get_sku_offer(session, line.sku_id, market.code) for line in lines]
    shops = {o.shop_id for o in offers}
    if len(shops) != 1:
        raise Unprocessable(
            "an order holds one shop's products; check out per shop", code="mixed-shops"
        )
    for offer in offers:
        if offer.currency != market.currency:
            raise Unprocessable(
                f"SKU {offer.sku_id} is priced in {offer.currency}, not {market.currency}",
                code="wrong-currency",
            )
    now = utcnow()
    prices = [_unit(o, ln) * ln.quantity for o, ln in zip(offers, lines, strict=True)]
    coupon = await _claim_coupon(
        session, buyer_id, offers[0].shop_id, market.code, coupon_code, sum(prices), now
    )
    discounts = incentives.spread(coupon.amount_minor if coupon else 0, prices)
    order_lines = [
        await _priced_line(
            session, market, o, ln, attribution.rate_for(o.product_id) if attribution else 0, d
        )
        for o, ln, d in zip(offers, lines, discounts, strict=True)
    ]
    hold = hold_for or timedelta(minutes=getattr(get_settings(), "reservation_hold_minutes", 10))
    shipping = shipping_breakdown(market)
    items = sum(ol.gross_minor for ol in order_lines)
    order = Order(
        buyer_id=buyer_id,
        shop_id=shops.pop(),
        market_code=market.code,
        currency=market.currency,
        status=OrderStatus.PENDING_PAYMENT,
        items_minor=items,
        subsidy_minor=0,
        shipping_minor=shipping.gross_minor,
        shipping_tax_minor=shipping.tax_minor,
        shipping_subsidy_minor=0,
        tax_minor=sum(ol.tax_minor for ol in order_lines) + shipping.tax_minor,
        total_minor=items + shipping.gross_minor,
        live_session_id=attribution.live_session_id if attribution else None,
        creator_id=attribution.creator_id if attribution else None,
        idempotency_key=idempotency_key,
        request_fingerprint=fp,
        hold_expires_at=utcnow() + hold,
        lines=order_lines,
    )
    session.add(order)
    try:
        await session.flush()  # the unique (buyer, key) row goes in before any stock moves
    except IntegrityError:
        await session.rollback()
        existing = await find_by_idempotency_key(session, buyer_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fp)

    try:
        session.add(
            OrderEvent(order_id=order.id, to_status=OrderStatus.PENDING_PAYMENT, actor_id=buyer_id)
        )
        # The campaign row is hot: claim it late, just before the (hotter) stock rows.
        subsidy = await incentives.claim_checkout_subsidy(
            session,
            market_code=market.code,
            goods_minor=order.items_minor,
            in_live=attribution is not None and attribution.live_session_id is not None,
            at=now,
        )
        if subsidy is not None:
            shares = incentives.spread(subsidy.amount_minor, [ol.gross_minor for ol in order_lines])
            for ol, share in zip(order_lines, shares, strict=True):
                ol.subsidy_minor = share
            order.subsidy_minor = subsidy.amount_minor
        free_shipping = await incentives.claim_shipping_subsidy(
            session, market_code=market.code, shipping_minor=order.shipping_minor, at=now
        )
        if free_shipping is not None:
            order.shipping_subsidy_minor = free_shipping.amount_minor
        order.total_minor = (
            order.items_minor
            - order.subsidy_minor
            + order.shipping_minor
            - order.shipping_subsidy_minor
        )
        incentives.record_claims(
            session,
            order_id=order.id,
            buyer_id=buyer_id,
            subsidy=subsidy,
            coupon=coupon,
            shipping=free_shipping,
        )
        await session.flush()
        # Stock last: the hot stock row stays locked only from the reserve to the commit.
        # In SKU order, so two carts holding the same SKUs cannot deadlock on their rows.
        for ol, line in sorted(zip(order_lines, lines, strict=True), key=lambda p: p[0].sku_id):
            if line.reservation_id is not None:
                ol.reservation_id = line.reservation_id
            else:
                held = await inventory.reserve(
                    session,
                    sku_id=ol.sku_id,
                    quantity=ol.quantity,
                    reference=f"order:{order.id}",
                    hold_for=hold,
                )
                ol.reservation_id = held.id
        await session.commit()
    except BaseException:
        await session.rollback()  # the order row and every hold made so far vanish together
        raise
    return PlacedOrder(order=order, replayed=False)
