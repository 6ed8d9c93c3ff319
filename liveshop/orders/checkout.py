"""Checkout: one transaction that snapshots prices, holds stock and creates the order.

Stock is held by the inventory domain's conditional UPDATE, so concurrent checkouts can never
hold more than exists; the idempotency key makes a retried request return the same order.

Shipping is the market's flat fee per (one-shop) order, split into net and tax like a price
and frozen on the order; a free-shipping campaign of the market may pay it (or part of it,
up to its per-order cap) instead of the buyer. The buyer pays
``items − subsidy + shipping − shipping subsidy``. All of these amounts are computed in
``orders.pricing``, which ``orders.quote`` runs without writing anything to show the buyer the
charge before they buy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.addresses.service import ShipTo
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import get_settings
from liveshop.inventory import service as inventory
from liveshop.orders import pricing
from liveshop.orders.events import announce_placed
from liveshop.orders.lines import Attribution, CheckoutLine
from liveshop.orders.models import Order, OrderAddress, OrderEvent, OrderLine
from liveshop.orders.status import OrderStatus
from liveshop.promotions import claims

MAX_LINES = 50
MAX_QUANTITY = 999


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


def validate_lines(lines: Sequence[CheckoutLine]) -> None:
    if not lines:
        raise Unprocessable(_("the order has no lines"), code="empty-order")
    if len(lines) > MAX_LINES:
        raise Unprocessable(
            _("at most %(max_lines)s lines per order", max_lines=MAX_LINES), code="too-many-lines"
        )
    seen: set[int] = set()
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise Unprocessable(
                _("quantity must be 1 to %(max_quantity)s", max_quantity=MAX_QUANTITY),
                code="bad-quantity",
                sku_id=line.sku_id,
            )
        if line.sku_id in seen:
            raise Unprocessable(
                _("each SKU may appear once"), code="duplicate-sku", sku_id=line.sku_id
            )
        seen.add(line.sku_id)


def _replay(existing: Order, fp: str) -> PlacedOrder:
    if existing.request_fingerprint != fp:
        raise Conflict(
            _("this Idempotency-Key was used for a different checkout"),
            code="idempotency-key-reused",
            order_id=existing.id,
        )
    return PlacedOrder(order=existing, replayed=True)


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
    expected_total_minor: int | None = None,
    before_commit: Callable[[Order], Awaitable[None]] | None = None,
    ship_to: ShipTo | None = None,
) -> PlacedOrder:
    """Create a pending_payment order with its stock held, or replay the keyed one. Commits.
    ``before_commit``: the caller's own writes about the new order, in its transaction.

    A seller's coupon (``coupon_code``, or the shop's auto-applied one) lowers the prices; a
    platform subsidy campaign of the market may pay part of what the buyer owes. Both are
    claimed with conditional UPDATEs in this transaction, so a failed checkout gives back
    what it claimed. The amounts come from ``pricing`` — the code a quote runs dry — and when
    ``expected_total_minor`` (the total the buyer was shown) is given, any other total is
    refused (409 ``price-changed``) and nothing is held or claimed.

    ``ship_to`` (``addresses.service.default_address_snapshot`` / ``address_snapshot``): the
    order keeps a copy of it (``OrderAddress``), in the same transaction.
    """
    if not 1 <= len(idempotency_key) <= 100:
        raise Unprocessable(
            _("Idempotency-Key must be 1-100 characters"), code="bad-idempotency-key"
        )
    validate_lines(lines)
    if ship_to is not None and ship_to.address.country_code != market_code.upper():
        raise Unprocessable(
            _("the delivery address is not in this market's country"),
            code="address-wrong-country",
            field="address_id",
        )
    fp = fingerprint(market_code, lines, attribution, coupon_code)
    existing = await find_by_idempotency_key(session, buyer_id, idempotency_key)
    if existing is not None:
        return _replay(existing, fp)

    now = utcnow()
    goods = await pricing.price_goods(
        session,
        buyer_id=buyer_id,
        market_code=market_code,
        lines=lines,
        attribution=attribution,
        coupon_code=coupon_code,
        at=now,
        dry_run=False,
    )
    hold = hold_for or timedelta(minutes=getattr(get_settings(), "reservation_hold_minutes", 10))
    order = _new_order(
        goods,
        buyer_id=buyer_id,
        attribution=attribution,
        idempotency_key=idempotency_key,
        fingerprint=fp,
        hold=hold,
    )
    raced = await _insert_or_replay(
        session, order, buyer_id=buyer_id, idempotency_key=idempotency_key, fp=fp
    )
    if raced is not None:
        return raced

    try:
        session.add(
            OrderEvent(order_id=order.id, to_status=OrderStatus.PENDING_PAYMENT, actor_id=buyer_id)
        )
        if ship_to is not None:
            session.add(ship_to_row(order.id, ship_to))
        # The campaign row is hot: claim it late, just before the (hotter) stock rows.
        await _claim_platform_money(
            session,
            order,
            goods,
            buyer_id=buyer_id,
            in_live=attribution is not None and attribution.live_session_id is not None,
            at=now,
            expected_total_minor=expected_total_minor,
        )
        await session.flush()
        await _hold_stock(session, order.id, goods.lines, lines, hold)
        await announce_placed(session, [order])
        if before_commit is not None:
            await before_commit(order)
        await session.commit()
    except BaseException:
        await session.rollback()  # the order row and every hold made so far vanish together
        raise
    return PlacedOrder(order=order, replayed=False)


async def plain_goods(
    session: AsyncSession,
    *,
    market_code: str,
    lines: Sequence[CheckoutLine],
    attribution: Attribution | None,
    at: datetime,
) -> pricing.PricedGoods | None:
    """These lines priced as ``place_order`` would price them, when nothing is claimed per
    order — no seller coupon and no platform campaign applies (asked without a buyer: a
    buyer's own limits only ever take a coupon away). Then every order of these lines costs
    exactly the same, and a batch of them (a drop's paying buyers) is priced once, with
    ``new_order`` building each from the same goods. None when a claim would be needed:
    each such order goes ``place_order``'s way. Nothing is written."""
    validate_lines(lines)
    goods = await pricing.price_goods(
        session,
        buyer_id=None,
        market_code=market_code,
        lines=lines,
        attribution=attribution,
        coupon_code=None,
        at=at,
        dry_run=True,
    )
    if goods.coupon is not None:
        return None
    in_live = attribution is not None and attribution.live_session_id is not None
    money = await pricing.platform_money(session, goods, in_live=in_live, at=at, dry_run=True)
    if money.subsidy is not None or money.free_shipping is not None:
        return None
    return goods


def new_order(
    goods: pricing.PricedGoods,
    lines: Sequence[CheckoutLine],
    *,
    buyer_id: int,
    attribution: Attribution | None,
    idempotency_key: str,
    fingerprint: str,
    hold: timedelta,
    at: datetime,
) -> Order:
    """An order of ``plain_goods`` (fresh rows: one set of goods makes many orders), its
    lines holding the units of ``lines``' reservations, placed ``at`` (a batch's orders share
    their moment: the commission contract in force is read once for all of them)."""
    order = _new_order(
        pricing.PricedGoods(
            market=goods.market,
            shop_id=goods.shop_id,
            lines=[_copy_line(ln) for ln in goods.lines],
            coupon=None,
        ),
        buyer_id=buyer_id,
        attribution=attribution,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        hold=hold,
    )
    for ol, line in zip(order.lines, lines, strict=True):
        ol.reservation_id = line.reservation_id
    order.created_at = at
    order.hold_expires_at = at + hold
    return order


_LINE_FIELDS = (
    "sku_id",
    "product_id",
    "title",
    "sku_code",
    "attributes",
    "category",
    "image_url",
    "quantity",
    "list_price_minor",
    "unit_price_minor",
    "gross_minor",
    "subsidy_minor",
    "tax_minor",
    "platform_commission_bp",
    "platform_commission_minor",
    "creator_commission_bp",
    "creator_commission_minor",
    "seller_net_minor",
    "deal_id",
)


def _copy_line(line: OrderLine) -> OrderLine:
    return OrderLine(**{f: getattr(line, f) for f in _LINE_FIELDS})


def ship_to_row(order_id: int, ship_to: ShipTo) -> OrderAddress:
    """The order's own copy of the address (the address book may change or lose it)."""
    return OrderAddress(
        order_id=order_id, address_id=ship_to.address_id, **ship_to.address.as_dict()
    )


def _new_order(
    goods: pricing.PricedGoods,
    *,
    buyer_id: int,
    attribution: Attribution | None,
    idempotency_key: str,
    fingerprint: str,
    hold: timedelta,
) -> Order:
    """The pending order at the goods' prices, before any campaign pays part of it (campaigns
    are claimed late, once the order row is in)."""
    before = pricing.totals(goods, None)
    return Order(
        buyer_id=buyer_id,
        shop_id=goods.shop_id,
        market_code=goods.market.code,
        currency=goods.market.currency,
        status=OrderStatus.PENDING_PAYMENT,
        items_minor=before.items_minor,
        subsidy_minor=0,
        shipping_minor=before.shipping_minor,
        shipping_tax_minor=before.shipping_tax_minor,
        shipping_subsidy_minor=0,
        tax_minor=before.tax_minor,
        total_minor=before.total_minor,
        return_window_days=goods.market.return_window_days,
        live_session_id=attribution.live_session_id if attribution else None,
        creator_id=attribution.creator_id if attribution else None,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        hold_expires_at=utcnow() + hold,
        lines=goods.lines,
    )


async def _insert_or_replay(
    session: AsyncSession, order: Order, *, buyer_id: int, idempotency_key: str, fp: str
) -> PlacedOrder | None:
    """Insert the order row (None), or replay the order a concurrent request with the same key
    made first. The unique (buyer, key) row goes in before any stock moves."""
    session.add(order)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        existing = await find_by_idempotency_key(session, buyer_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fp)
    return None


async def _claim_platform_money(
    session: AsyncSession,
    order: Order,
    goods: pricing.PricedGoods,
    *,
    buyer_id: int,
    in_live: bool,
    at: datetime,
    expected_total_minor: int | None,
) -> None:
    """Claim the platform's campaigns for the order, refuse a total other than the one the
    buyer was shown (409 ``price-changed``), and record what the order took."""
    money = await pricing.platform_money(session, goods, in_live=in_live, at=at, dry_run=False)
    charged = pricing.totals(goods, money)
    if expected_total_minor is not None and charged.total_minor != expected_total_minor:
        raise Conflict(
            _("the price changed since it was shown: nothing was charged, check the new total"),
            code="price-changed",
            expected_total_minor=expected_total_minor,
            total_minor=charged.total_minor,
        )
    order.subsidy_minor = charged.subsidy_minor
    order.shipping_subsidy_minor = charged.shipping_subsidy_minor
    order.total_minor = charged.total_minor
    claims.record_claims(
        session,
        order_id=order.id,
        buyer_id=buyer_id,
        subsidy=money.subsidy,
        coupon=goods.coupon,
        shipping=money.free_shipping,
    )


async def _hold_stock(
    session: AsyncSession,
    order_id: int,
    order_lines: Sequence[OrderLine],
    lines: Sequence[CheckoutLine],
    hold: timedelta,
) -> None:
    """Stock last: the hot stock row stays locked only from the reserve to the commit. In SKU
    order, so two carts holding the same SKUs cannot deadlock on their rows. A flash deal's
    line already holds its units (split off the deal's hold)."""
    for ol, line in sorted(zip(order_lines, lines, strict=True), key=lambda p: p[0].sku_id):
        if line.reservation_id is not None:
            ol.reservation_id = line.reservation_id
        else:
            held = await inventory.reserve(
                session,
                sku_id=ol.sku_id,
                quantity=ol.quantity,
                reference=f"order:{order_id}",
                hold_for=hold,
            )
            ol.reservation_id = held.id
