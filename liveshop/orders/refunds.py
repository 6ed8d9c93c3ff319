"""Refunds of a paid order: some units of some lines, or all of them (a paid order's
cancellation is a refund of everything).

One transaction writes the refunded units (every line guarded by a conditional UPDATE), the
units back on sale, the subsidy back to the campaigns' budgets, the exact pro-rata ledger
reversal and the status; it announces ``OrderRefunded`` inside that transaction (a live
session's GMV bonus the refund takes it below is reversed with it). The money goes back to
the buyer after the commit (``settle_refund``, now or by webhook).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop import audit
from liveshop.audit import Action
from liveshop.core import domain_events
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.orders import accounting
from liveshop.orders.completion import load_order
from liveshop.orders.events import OrderRefunded
from liveshop.orders.models import (
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from liveshop.orders.payments.provider import ChargeOutcome, PaymentProvider
from liveshop.orders.status import NOT_SHIPPED, REFUNDABLE, OrderStatus
from liveshop.orders.transitions import move_status
from liveshop.promotions import claims


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_id: int
    quantity: int


def _check_lines(order: Order, lines: Sequence[RefundLine]) -> dict[int, OrderLine]:
    by_id = {line.id: line for line in order.lines}
    if not lines:
        raise Unprocessable(_("name at least one line to refund"), code="empty-refund")
    seen: set[int] = set()
    for item in lines:
        line = by_id.get(item.line_id)
        if line is None:
            raise Unprocessable(
                _("line %(line_id)s is not in this order", line_id=item.line_id),
                code="unknown-line",
            )
        if item.line_id in seen:
            raise Unprocessable(_("each line may appear once"), code="duplicate-line")
        seen.add(item.line_id)
        left = line.quantity - line.refunded_quantity
        if not 1 <= item.quantity <= left:
            raise Unprocessable(
                _("line %(id)s: %(left)s unit(s) can still be refunded", id=line.id, left=left),
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
    order's shipping goes back in proportion to the units refunded (wholly with the last).

    One transaction writes the refund (units, stock, subsidy returns, ledger, status) and
    announces ``OrderRefunded`` in it; the provider is asked for the money after the commit.
    """
    order = await load_order(session, order_id)
    if order.status not in REFUNDABLE:
        raise Conflict(
            _("an order that is %(status)s cannot be refunded", status=order.status),
            code="not-refundable",
        )
    by_id = _check_lines(order, lines)
    payment = await _captured_payment(session, order)
    put_back = order.status in NOT_SHIPPED if restock is None else restock

    before = {lid: line.refunded_quantity for lid, line in by_id.items()}
    after = dict(before)
    # Shipping goes back in proportion to the order's units (all of it with the last unit).
    shipping_back = accounting.shipping_refund_parts(
        order, already=sum(before.values()), more=sum(item.quantity for item in lines)
    )
    for item in lines:
        after[item.line_id] += item.quantity
    await _guard_refunded_quantities(session, before, after)
    parts: list[accounting.LineParts] = [shipping_back]
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
    await _return_subsidy(session, order, goods=parts[1:], shipping=shipping_back)
    record = await _record_refund(session, order, payment, parts, lines, actor_id, reason)
    audit.record(
        session,
        actor_id=actor_id,
        action=Action.ORDER_REFUND,
        target_type="order",
        target_id=order.id,
        before={"status": order.status, "refunded": before},
        after={"refunded": after, "amount_minor": record.amount_minor, "restock": put_back},
        note=reason,
    )
    await domain_events.announce(
        session,
        OrderRefunded(
            order_id=order.id,
            refund_id=record.id,
            amount_minor=record.amount_minor,
            live_session_id=order.live_session_id,
            creator_id=order.creator_id,
            market_code=order.market_code,
            shop_id=order.shop_id,
            buyer_id=order.buyer_id,
        ),
    )
    fully = all(after[lid] == line.quantity for lid, line in by_id.items())
    await _after_refund_status(
        session, order, record.amount_minor, fully, final_status, actor_id, reason
    )
    await session.commit()
    await _return_money(session, provider, payment, record)
    return await load_order(session, order_id)


async def _captured_payment(session: AsyncSession, order: Order) -> Payment:
    payment = await session.scalar(
        select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED
        )
    )
    if payment is None or payment.provider_ref is None:
        raise Conflict(_("the order has no captured payment"), code="not-refundable")
    return payment


async def _guard_refunded_quantities(
    session: AsyncSession, before: dict[int, int], after: dict[int, int]
) -> None:
    """Every line of the order is guarded (in id order, so concurrent refunds lock alike), not
    only the refunded ones: the shipping share (and the free-shipping subsidy it gives back
    to its campaign) is computed from all the order's refunded units as read, so a refund of
    another line meanwhile must make this one fail rather than count from a stale figure."""
    for lid in sorted(before):
        guarded = await session.execute(
            update(OrderLine)
            .where(OrderLine.id == lid, OrderLine.refunded_quantity == before[lid])
            .values(refunded_quantity=after[lid])
            .execution_options(synchronize_session=False)
        )
        if getattr(guarded, "rowcount", 0) != 1:
            await session.rollback()
            raise Conflict(_("the order was refunded meanwhile; reload it"), code="order-changed")


async def _return_subsidy(
    session: AsyncSession,
    order: Order,
    *,
    goods: Sequence[accounting.LineParts],
    shipping: accounting.LineParts,
) -> None:
    """The subsidy this reversal takes back from platform_subsidy_expense goes back to the
    campaigns' budgets in the same transaction (at most what each claim took)."""
    returned = await claims.return_refunded_subsidy(
        session,
        order.id,
        goods_minor=sum(p.subsidy for p in goods),
        shipping_minor=shipping.subsidy,
    )
    if not returned:
        await session.rollback()
        raise Conflict(_("the order was refunded meanwhile; reload it"), code="order-changed")


async def _record_refund(
    session: AsyncSession,
    order: Order,
    payment: Payment,
    parts: Sequence[accounting.LineParts],
    lines: Sequence[RefundLine],
    actor_id: int | None,
    reason: str,
) -> Refund:
    """The refund's row and its ledger reversal."""
    record = Refund(
        order_id=order.id,
        payment_id=payment.id,
        amount_minor=sum(p.buyer for p in parts),
        reason=reason,
        lines=[{"line_id": i.line_id, "quantity": i.quantity} for i in lines],
        created_by=actor_id,
    )
    session.add(record)
    await session.flush()
    await accounting.post_refund(
        session, order, list(parts), refund_id=record.id, provider=payment.provider
    )
    return record


async def _after_refund_status(
    session: AsyncSession,
    order: Order,
    amount: int,
    fully: bool,
    final_status: OrderStatus,
    actor_id: int | None,
    reason: str,
) -> None:
    """Count the refund on the order; a wholly refunded order moves to ``final_status``, a
    partly refunded one with an open request goes back to where it was."""
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(refunded_minor=Order.refunded_minor + amount)
        .execution_options(synchronize_session=False)
    )
    if fully:
        await move_status(
            session,
            order,
            final_status,
            actor_id=actor_id,
            note=reason,
            cancel_reason=(reason if final_status == OrderStatus.CANCELLED else None),
        )
    elif order.status == OrderStatus.REFUND_REQUESTED and order.status_before_request:
        await move_status(
            session,
            order,
            OrderStatus(order.status_before_request),
            actor_id=actor_id,
            note=f"partly refunded: {reason}",
            status_before_request=None,
        )


async def _return_money(
    session: AsyncSession, provider: PaymentProvider, payment: Payment, record: Refund
) -> None:
    """After the commit: ask the provider; a refund it settles now is settled here, one it
    settles later by webhook (``settle_refund``)."""
    assert payment.provider_ref is not None
    result = await provider.refund(
        payment.provider_ref, amount_minor=record.amount_minor, reference=f"refund:{record.id}"
    )
    if result.outcome is ChargeOutcome.SUCCEEDED:
        await settle_refund(session, record.id, provider_ref=result.provider_ref)
    elif result.outcome is ChargeOutcome.FAILED:
        await session.execute(
            update(Refund).where(Refund.id == record.id).values(status=RefundStatus.FAILED)
        )
        await session.commit()


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
