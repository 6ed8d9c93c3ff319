"""After checkout: fulfilment, cancellation, refund requests, and expiry of unpaid orders.

Each function is one operation and commits once. A status change is a conditional UPDATE on
the status read (``transitions.move_status``), so two concurrent actions cannot both move the
same order. Refunds themselves (a paid order's cancellation included) are ``refunds``'.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.orders.completion import load_order
from liveshop.orders.events import announce_unpaid_cancel
from liveshop.orders.models import (
    Order,
    Payment,
    PaymentStatus,
)
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.refunds import RefundLine, refund
from liveshop.orders.status import OrderStatus
from liveshop.orders.transitions import move_status
from liveshop.promotions import claims


async def start_fulfilment(session: AsyncSession, order_id: int, *, actor_id: int) -> Order:
    order = await load_order(session, order_id)
    await move_status(session, order, OrderStatus.FULFILLING, actor_id=actor_id)
    await session.commit()
    return await load_order(session, order_id)


async def ship(
    session: AsyncSession, order_id: int, *, actor_id: int, carrier: str, tracking_number: str
) -> Order:
    order = await load_order(session, order_id)
    await move_status(
        session,
        order,
        OrderStatus.SHIPPED,
        actor_id=actor_id,
        shipping_carrier=carrier,
        tracking_number=tracking_number,
        note=f"{carrier} {tracking_number}",
    )
    await session.commit()
    return await load_order(session, order_id)


async def mark_delivered(session: AsyncSession, order_id: int, *, actor_id: int | None) -> Order:
    order = await load_order(session, order_id)
    await move_status(session, order, OrderStatus.DELIVERED, actor_id=actor_id)
    await session.commit()
    return await load_order(session, order_id)


async def complete(session: AsyncSession, order_id: int, *, actor_id: int | None) -> Order:
    order = await load_order(session, order_id)
    await move_status(session, order, OrderStatus.COMPLETED, actor_id=actor_id)
    await session.commit()
    return await load_order(session, order_id)


async def cancel(
    session: AsyncSession,
    provider: PaymentProvider,
    order_id: int,
    *,
    actor_id: int | None,
    reason: str,
) -> Order:
    """Before shipping only. Unpaid: holds are released. Paid: everything is refunded and the
    units go back on sale."""
    order = await load_order(session, order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        await move_status(
            session,
            order,
            OrderStatus.CANCELLED,
            actor_id=actor_id,
            note=reason,
            cancel_reason=reason,
        )
        for line in order.lines:
            if line.reservation_id is not None:
                await inventory.release_reservation(
                    session, line.reservation_id, reason="order cancelled"
                )
        await claims.release_order_claims(session, order_id)  # subsidy back to its budget
        await announce_unpaid_cancel(session, order)
        await session.commit()
        return await load_order(session, order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.FULFILLING):
        raise Conflict(
            _(
                "an order that is %(status)s cannot be cancelled; ask for a refund instead",
                status=order.status,
            ),
            code="illegal-order-transition",
        )
    everything = [
        RefundLine(line.id, line.quantity - line.refunded_quantity)
        for line in order.lines
        if line.quantity > line.refunded_quantity
    ]
    return await refund(
        session,
        provider,
        order_id,
        everything,
        actor_id=actor_id,
        reason=reason,
        final_status=OrderStatus.CANCELLED,
    )


async def request_refund(
    session: AsyncSession, order_id: int, *, buyer_id: int, reason: str
) -> Order:
    order = await load_order(session, order_id)
    await move_status(
        session,
        order,
        OrderStatus.REFUND_REQUESTED,
        actor_id=buyer_id,
        note=reason,
        status_before_request=order.status,
    )
    await session.commit()
    return await load_order(session, order_id)


async def reject_refund_request(
    session: AsyncSession, order_id: int, *, actor_id: int, reason: str
) -> Order:
    order = await load_order(session, order_id)
    if order.status != OrderStatus.REFUND_REQUESTED or order.status_before_request is None:
        raise Conflict(_("there is no open refund request"), code="no-refund-request")
    await move_status(
        session,
        order,
        OrderStatus(order.status_before_request),
        actor_id=actor_id,
        note=reason,
        status_before_request=None,
    )
    await session.commit()
    return await load_order(session, order_id)


async def cancel_unpaid_expired(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 200
) -> int:
    """Pending orders whose stock hold ran out and that have no payment in flight are cancelled."""
    now = now or utcnow()
    busy = select(Payment.order_id).where(
        Payment.status.in_([PaymentStatus.PROCESSING, PaymentStatus.PENDING])
    )
    ids = (
        await session.scalars(
            select(Order.id)
            .where(
                Order.status == OrderStatus.PENDING_PAYMENT,
                Order.hold_expires_at < now,
                Order.id.not_in(busy),
            )
            .limit(limit)
        )
    ).all()
    done = 0
    for order_id in ids:
        order = await load_order(session, order_id)
        try:
            await move_status(
                session,
                order,
                OrderStatus.CANCELLED,
                actor_id=None,
                note="not paid before the hold expired",
                cancel_reason="payment not received in time",
            )
        except Conflict:
            await session.rollback()
            continue
        for line in order.lines:
            if line.reservation_id is not None:
                await inventory.release_reservation(
                    session, line.reservation_id, reason="order expired"
                )
        await claims.release_order_claims(session, order_id)
        await announce_unpaid_cancel(session, order)
        await session.commit()
        done += 1
    return done
