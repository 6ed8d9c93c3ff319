"""After payment: fulfilment, cancellation, refund requests and (partial) refunds.

Each function is one operation and commits once. A status change is a conditional UPDATE on
the status read, so two concurrent actions cannot both move the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.creators import bonus_reversals, incentives
from liveshop.inventory import service as inventory
from liveshop.orders import accounting
from liveshop.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from liveshop.orders.payment_flow import load_order
from liveshop.orders.payments.provider import ChargeOutcome, PaymentProvider
from liveshop.orders.status import NOT_SHIPPED, REFUNDABLE, OrderStatus, ensure_transition


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_id: int
    quantity: int


async def _move(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    *,
    actor_id: int | None,
    note: str = "",
    **values: object,
) -> None:
    """Conditional status change (the WHERE on the old status is the guard). Does not commit."""
    current = order.status
    ensure_transition(current, target)
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == current)
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("the order changed meanwhile; reload it", code="order-changed")
    session.add(
        OrderEvent(
            order_id=order.id, from_status=current, to_status=target, actor_id=actor_id, note=note
        )
    )


async def start_fulfilment(session: AsyncSession, order_id: int, *, actor_id: int) -> Order:
    order = await load_order(session, order_id)
    await _move(session, order, OrderStatus.FULFILLING, actor_id=actor_id)
    await session.commit()
    return await load_order(session, order_id)


async def ship(
    session: AsyncSession, order_id: int, *, actor_id: int, carrier: str, tracking_number: str
) -> Order:
    order = await load_order(session, order_id)
    await _move(
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
    await _move(session, order, OrderStatus.DELIVERED, actor_id=actor_id)
    await session.commit()
    return await load_order(session, order_id)


async def complete(session: AsyncSession, order_id: int, *, actor_id: int | None) -> Order:
    order = await load_order(session, order_id)
    await _move(session, order, OrderStatus.COMPLETED, actor_id=actor_id)
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
        await _move(
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
        await incentives.release_order_claims(session, order_id)  # subsidy back to its budget
        await session.commit()
        return await load_order(session, order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.FULFILLING):
        raise Conflict(
            f"an order that is {order.status} cannot be cancelled; ask for a refund instead",
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
    await _move(
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
        raise Conflict("there is no open refund request", code="no-refund-request")
    await _move(
        session,
        order,
        OrderStatus(order.status_before_request),
        actor_id=actor_id,
        note=reason,
        status_before_request=None,
    )
    await session.commit()
    return await load_order(session, order_id)


def _check_lines(order: Order, lines: Sequence[RefundLine]) -> dict[int, OrderLine]:
    by_id = {line.id: line for line in order.lines}
    if not lines:
        raise Unprocessable("name at least one line to refund", code="empty-refund")
    seen: set[int] = set()
    for item in lines:
        line = by_id.get(item.line_id)
        if line is None:
            raise Unprocessable(f"line {item.line_id} is not in this order", code="unknown-line")
        if item.line_id in seen:
            raise Unprocessable("each line may appear once", code="duplicate-line")
        seen.add(item.line_id)
        left = line.quantity - line.refunded_quantity
        if not 1 <= item.quantity <= left:
            raise Unprocessable(
                f"line {line.id}: {left} unit(s) can still be refunded",
                code="bad-refund-quantity",
                refundable=left,
            )
    return by_id


async def refund(
    session: AsyncSession,
    provider: PaymentProvider,
    order_id: int,
    lines: Sequence[RefundLine],
    *,
    actor_id: int | None,
    reason: str,
    restock: bool | None = None,
    final_status: OrderStatus = OrderStatus.REFUNDED,
) -> Order:
    """Refund some units of some lines: exact pro-rata ledger reversal, money back to the buyer,
    and (unless goods have shipped, or ``restock`` says otherwise) units back on sale. The
    order's shipping goes back in proportion to the units refunded (wholly with the last)."""
    order = await load_order(session, order_id)
    if order.status not in REFUNDABLE:
        raise Conflict(f"an order that is {order.status} cannot be refunded", code="not-refundable")
    by_id = _check_lines(order, lines)
    payment = await session.scalar(
        select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED
        )
    )
    if payment is None or payment.provider_ref is None:
        raise Conflict("the order has no captured payment", code="not-refundable")
    put_back = order.status in NOT_SHIPPED if restock is None else restock

    before = {lid: line.refunded_quantity for lid, line in by_id.items()}
    after = dict(before)
    # Shipping goes back in proportion to the order's units (all of it with the last unit).
    shipping_back = accounting.shipping_refund_parts(
        order, already=sum(before.values()), more=sum(item.quantity for item in lines)
    )
    parts: list[accounting.LineParts] = [shipping_back]
    for item in lines:
        after[item.line_id] += item.quantity
    # Every line of the order is guarded (in id order, so concurrent refunds lock alike), not
    # only the refunded ones: the shipping share (and the free-shipping subsidy it gives back
    # to its campaign) is computed from all the order's refunded units as read, so a refund of
    # another line meanwhile must make this one fail rather than count from a stale figure.
    for lid in sorted(by_id):
        guarded = await session.execute(
            update(OrderLine)
            .where(OrderLine.id == lid, OrderLine.refunded_quantity == before[lid])
            .values(refunded_quantity=after[lid])
            .execution_options(synchronize_session=False)
        )
        if getattr(guarded, "rowcount", 0) != 1:
            await session.rollback()
            raise Conflict("the order was refunded meanwhile; reload it", code="order-changed")
    for item in lines:
        line = by_id[item.line_id]
        parts.append(accounting.refund_parts(line, already=before[line.id], more=item.quantity))
        if put_back:
            await inventory.return_units(
                session,
                sku_id=line.sku_id,
                quantity=item.quantity,
                reference=f"order:{order.id}",
                actor_id=actor_id,
                reservation_id=line.reservation_id,
            )
    # The subsidy this reversal takes back from platform_subsidy_expense goes back to the
    # campaigns' budgets in the same transaction (at most what each claim took).
    returned = await incentives.return_refunded_subsidy(
        session,
        order.id,
        goods_minor=sum(p.subsidy for p in parts[1:]),
        shipping_minor=shipping_back.subsidy,
    )
    if not returned:
        await session.rollback()
        raise Conflict("the order was refunded meanwhile; reload it", code="order-changed")
    amount = sum(p.buyer for p in parts)
    record = Refund(
        order_id=order.id,
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason,
        lines=[{"line_id": i.line_id, "quantity": i.quantity} for i in lines],
        created_by=actor_id,
    )
    session.add(record)
    await session.flush()
    await accounting.post_refund(
        session, order, parts, refund_id=record.id, provider=payment.provider
    )
    if order.live_session_id is not None:
        # A session's GMV bonus that this refund takes it below is reversed with it.
        await bonus_reversals.reverse_lost_bonuses(session, order.live_session_id)
    fully = all(after[lid] == line.quantity for lid, line in by_id.items())
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(refunded_minor=Order.refunded_minor + amount)
        .execution_options(synchronize_session=False)
    )
    if fully:
        await _move(
            session,
            order,
            final_status,
            actor_id=actor_id,
            note=reason,
            cancel_reason=(reason if final_status == OrderStatus.CANCELLED else None),
        )
    elif order.status == OrderStatus.REFUND_REQUESTED and order.status_before_request:
        await _move(
            session,
            order,
            OrderStatus(order.status_before_request),
            actor_id=actor_id,
            note=f"partly refunded: {reason}",
            status_before_request=None,
        )
    await session.commit()

    result = await provider.refund(
        payment.provider_ref, amount_minor=amount, reference=f"refund:{record.id}"
    )
    if result.outcome is ChargeOutcome.SUCCEEDED:
        await settle_refund(session, record.id, provider_ref=result.provider_ref)
    elif result.outcome is ChargeOutcome.FAILED:
        await session.execute(
            update(Refund).where(Refund.id == record.id).values(status=RefundStatus.FAILED)
        )
        await session.commit()
    return await load_order(session, order_id)


async def settle_refund(session: AsyncSession, refund_id: int, *, provider_ref: str | None) -> None:
    """The provider returned the money (now or by webhook). Idempotent."""
    claimed = await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status != RefundStatus.SUCCEEDED)
        .values(status=RefundStatus.SUCCEEDED, provider_ref=provider_ref)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        await session.rollback()
        return
    record = await session.get(Refund, refund_id, populate_existing=True)
    assert record is not None
    order = await load_order(session, record.order_id)
    payment = await session.get(Payment, record.payment_id)
    assert payment is not None
    await accounting.post_refund_settled(
        session,
        order,
        refund_id=refund_id,
        amount_minor=record.amount_minor,
        provider=payment.provider,
    )
    await session.commit()


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
            await _move(
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
        await incentives.release_order_claims(session, order_id)
        await session.commit()
        done += 1
    return done
