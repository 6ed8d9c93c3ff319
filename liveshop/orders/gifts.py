"""Gift orders: a prize (a live giveaway's unit) delivered as an order that costs nothing.

A gift order is an ordinary order — lines, the buyer's address, shipments and tracking,
returns — whose every amount is zero: the line is priced at 0 (so its tax and commissions
are 0), and the shop ships it at its own cost (no shipping fee is charged and no campaign is
claimed for it). It is placed straight into ``paid``: no payment, no provider call. Its
units were already held for the prize; they are sold in the same transaction
(``inventory.commit_reservations``), so the stock identity holds.

The ledger: a sale's transaction has one posting per account its money moves through. A
zero order moves no money, so ``accounting.post_sale`` finds no non-zero posting and writes
no transaction (the ledger refuses empty or zero postings) — the trial balance is untouched
and stays zero. A gift is no sale: it is not announced as paid (no show GMV or order count,
no purchase ticker), and it carries no creator attribution.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.addresses.service import ShipTo
from liveshop.core.clock import utcnow
from liveshop.inventory import service as inventory
from liveshop.orders import accounting, pricing
from liveshop.orders.checkout import (
    find_by_idempotency_key,
    fingerprint,
    new_order,
    ship_to_row,
    validate_lines,
)
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order, OrderEvent
from liveshop.orders.status import OrderStatus


async def place_gift_order(
    session: AsyncSession,
    *,
    buyer_id: int,
    market_code: str,
    sku_id: int,
    quantity: int,
    reservation_id: int,
    idempotency_key: str,
    ship_to: ShipTo | None,
    note: str,
) -> Order:
    """The paid, zero-price order of ``quantity`` units already held by ``reservation_id``
    (or the one this key already made). Commits. ``note`` says why (on its events)."""
    existing = await find_by_idempotency_key(session, buyer_id, idempotency_key)
    if existing is not None:
        return existing
    lines = [
        CheckoutLine(
            sku_id=sku_id, quantity=quantity, unit_price_minor=0, reservation_id=reservation_id
        )
    ]
    validate_lines(lines)
    now = utcnow()
    goods = await pricing.price_goods(
        session,
        buyer_id=None,
        market_code=market_code,
        lines=lines,
        attribution=None,
        coupon_code=None,
        at=now,
        dry_run=True,  # nothing to claim: a coupon takes nothing off 0
    )
    order = new_order(
        goods,
        lines,
        buyer_id=buyer_id,
        attribution=None,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint(market_code, lines, None),
        hold=timedelta(0),
        at=now,
    )
    assert order.items_minor == 0 and order.tax_minor == order.shipping_tax_minor
    order.shipping_minor = order.shipping_tax_minor = order.tax_minor = 0
    order.total_minor = 0
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.hold_expires_at = None
    session.add(order)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raced = await find_by_idempotency_key(session, buyer_id, idempotency_key)
        if raced is None:
            raise
        return raced
    try:
        session.add(
            OrderEvent(
                order_id=order.id, to_status=OrderStatus.PENDING_PAYMENT, actor_id=None, note=note
            )
        )
        session.add(
            OrderEvent(
                order_id=order.id,
                from_status=OrderStatus.PENDING_PAYMENT,
                to_status=OrderStatus.PAID,
                note=note,
            )
        )
        if ship_to is not None:
            session.add(ship_to_row(order.id, ship_to))
        await accounting.post_sale(session, order, provider="none")  # no money: no postings
        await inventory.commit_reservations(session, [reservation_id])
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return order
