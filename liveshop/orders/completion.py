"""Captured money → a paid order, exactly once; and a payment's end when it takes nothing.

``complete_payment`` is reached by the pay request, the provider's webhook and the recovery of
a stuck payment (``payment_recovery``) alike, and is idempotent. A payment that ends without
buying anything (failed, declined, stock lost) gives its order's held units back to their
expiry (``inventory.end_payment``): while it was in flight they could not expire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from liveshop.core.clock import utcnow
from liveshop.core.db import CommitHookSession, on_commit
from liveshop.core.errors import NotFound, Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.metrics import PAYMENTS
from liveshop.inventory import service as inventory
from liveshop.inventory.errors import ReservationLost
from liveshop.orders import accounting, notify
from liveshop.orders.events import announce_paid, announce_unpaid_cancel
from liveshop.orders.models import Order, OrderEvent, OrderLine, Payment, PaymentStatus
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.status import OrderStatus
from liveshop.promotions import claims

IN_FLIGHT = (PaymentStatus.PROCESSING, PaymentStatus.PENDING)


class PaymentDeclined(Problem):
    status = 402
    code = "payment-declined"


async def load_order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    return order


async def complete_payment(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    payment_id: int,
    notifier: notify.OrderNotifier | None = None,
    order: Order | None = None,
) -> Order:
    """Captured money → paid order. Idempotent; if the held stock is gone, refund and cancel.

    ``order``: the payment's order with its lines, as the caller (the pay request) loaded it
    in this session — it is not read again (lines are a frozen snapshot; the order's row is
    claimed by a guarded UPDATE all the same). The webhook and recovery pass none.

    The payment is claimed first (guarded: a payment already succeeded is never completed
    twice — a concurrent second completion waits on its row and returns the paid order), then
    the order (guarded on ``pending_payment``); the ledger is posted, and the held units are
    sold last, so the hot stock rows stay locked only until the commit right after.
    """
    try:
        claimed_payment = (
            await session.execute(
                update(Payment)
                .where(Payment.id == payment_id, Payment.status != PaymentStatus.SUCCEEDED)
                .values(status=PaymentStatus.SUCCEEDED, updated_at=utcnow())
                .returning(Payment.order_id, Payment.provider)
            )
        ).one_or_none()
        if claimed_payment is None:
            paid_order = await session.scalar(
                select(Payment.order_id).where(Payment.id == payment_id)
            )
            if paid_order is None:
                raise NotFound(
                    _("payment %(payment_id)s does not exist", payment_id=payment_id),
                    code="payment-not-found",
                )
            return await load_order(session, paid_order)  # already succeeded: nothing to do
        order_id, provider_name = claimed_payment
        if order is None or order.id != order_id:
            order = await load_order(session, order_id)
        claimed = await session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.PENDING_PAYMENT)
            .values(status=OrderStatus.PAID, paid_at=utcnow(), updated_at=utcnow())
        )
        if getattr(claimed, "rowcount", 0) != 1:
            # Someone else paid it (a second payment on a cancelled or paid order): give it back.
            await session.rollback()  # expires ``payment``: go on by its id
            return await _refund_orphan_payment(session, provider, payment_id=payment_id)
        session.add(
            OrderEvent(
                order_id=order.id,
                from_status=OrderStatus.PENDING_PAYMENT,
                to_status=OrderStatus.PAID,
            )
        )
        await accounting.post_sale(session, order, provider=provider_name)
        await announce_paid(session, [order])
        _count_on_commit(session, 1)
        await inventory.commit_reservations(
            session, [ln.reservation_id for ln in order.lines if ln.reservation_id is not None]
        )
        await session.commit()
    except ReservationLost:
        await session.rollback()  # expires ``payment``: go on by its id
        return await _stock_lost(session, provider, payment_id=payment_id)
    except BaseException:
        await session.rollback()
        raise
    if notifier is not None:
        await notifier.paid(_paid_event(order))
    return order


@dataclass(frozen=True, slots=True)
class Captured:
    """A payment the provider captured, with its order (and lines) as this process has it."""

    payment_id: int
    order: Order
    provider_ref: str | None


class _NotPlain(Exception):
    """A payment or an order of the batch is not where a fresh payment's would be."""


async def complete_payments(
    session: AsyncSession,
    provider: PaymentProvider,
    captured: Sequence[Captured],
    *,
    notifier: notify.OrderNotifier | None = None,
) -> list[Order | Exception]:
    """``complete_payment`` for a batch of fresh payments, in ONE transaction whatever their
    number: their references and status (one UPDATE each), the orders (one guarded UPDATE),
    their events, the ledger (``post_sales``: one ``append_many``) and the held units
    (``commit_reservations``: one guarded UPDATE per stock row). If any of them is not plain —
    a payment already completed (webhook), an order no longer pending, a hold that was lost —
    nothing of the batch is written and each goes ``complete_payment``'s own way (which
    refunds what cannot be sold). One result per payment, in order: the paid order, or the
    exception that payment's caller gets."""
    if not captured:
        return []
    orders = [c.order for c in captured]
    now = utcnow()
    try:
        refs = [
            {"id": c.payment_id, "provider_ref": c.provider_ref} for c in captured if c.provider_ref
        ]
        if refs:
            await session.execute(update(Payment), refs)
        moved = await session.scalars(
            update(Payment)
            .where(
                Payment.id.in_([c.payment_id for c in captured]),
                Payment.status.in_([str(st) for st in IN_FLIGHT]),
            )
            .values(status=PaymentStatus.SUCCEEDED, updated_at=now)
            .returning(Payment.id)
            .execution_options(synchronize_session=False)
        )
        if len(moved.all()) != len(captured):
            raise _NotPlain
        paid = await session.scalars(
            update(Order)
            .where(
                Order.id.in_([o.id for o in orders]),
                Order.status == OrderStatus.PENDING_PAYMENT,
            )
            .values(status=OrderStatus.PAID, paid_at=now, updated_at=now)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        if len(paid.all()) != len(orders):
            raise _NotPlain
        await session.execute(
            insert(OrderEvent),
            [
                {
                    "order_id": o.id,
                    "from_status": OrderStatus.PENDING_PAYMENT,
                    "to_status": OrderStatus.PAID,
                    "created_at": now,
                }
                for o in orders
            ],
        )
        await accounting.post_sales(session, orders, provider=provider.name)
        await announce_paid(session, orders)
        _count_on_commit(session, len(orders))
        await inventory.commit_reservations(
            session,
            [ln.reservation_id for o in orders for ln in o.lines if ln.reservation_id is not None],
        )
        await session.commit()
    except (_NotPlain, ReservationLost):
        await session.rollback()
        return [await _one_by_one(session, provider, c, notifier) for c in captured]
    except BaseException:
        await session.rollback()
        raise
    for order in orders:
        set_committed_value(order, "status", OrderStatus.PAID)
        set_committed_value(order, "paid_at", now)
        set_committed_value(order, "updated_at", now)
    if notifier is not None:
        await asyncio.gather(*(notifier.paid(_paid_event(o)) for o in orders))
    return list(orders)


async def _one_by_one(
    session: AsyncSession,
    provider: PaymentProvider,
    c: Captured,
    notifier: notify.OrderNotifier | None,
) -> Order | Exception:
    try:
        await set_ref(session, c.payment_id, c.provider_ref)
        # The rollback expired the order if it was this session's: read it again.
        return await complete_payment(session, provider, payment_id=c.payment_id, notifier=notifier)
    except Exception as exc:
        return exc


async def fail_payment(session: AsyncSession, *, payment_id: int, failure_code: str | None) -> None:
    await mark_payment(session, payment_id, PaymentStatus.FAILED, failure=failure_code or "failed")


async def _stock_lost(
    session: AsyncSession, provider: PaymentProvider, *, payment_id: int
) -> Order:
    """The hold expired and the units sold to someone else before this payment arrived."""
    payment = await session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    await _give_money_back(provider, payment)
    await mark_payment(session, payment.id, PaymentStatus.FAILED, failure="stock_lost")
    cancelled = await session.execute(
        update(Order)
        .where(Order.id == payment.order_id, Order.status == OrderStatus.PENDING_PAYMENT)
        .values(status=OrderStatus.CANCELLED, cancel_reason="sold out before payment arrived")
    )
    session.add(
        OrderEvent(
            order_id=payment.order_id,
            from_status=OrderStatus.PENDING_PAYMENT,
            to_status=OrderStatus.CANCELLED,
            note="stock ran out before the payment arrived; the payment was returned",
        )
    )
    if getattr(cancelled, "rowcount", 0) == 1:
        await announce_unpaid_cancel(session, await load_order(session, payment.order_id))
    await claims.release_order_claims(session, payment.order_id)
    await session.commit()
    raise ReservationLost(
        _("the item sold out before your payment arrived; your payment was returned in full"),
        order_id=payment.order_id,
    )


async def _refund_orphan_payment(
    session: AsyncSession, provider: PaymentProvider, *, payment_id: int
) -> Order:
    payment = await session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    await _give_money_back(provider, payment)
    await mark_payment(session, payment.id, PaymentStatus.FAILED, failure="order_not_payable")
    return await load_order(session, payment.order_id)


async def _give_money_back(provider: PaymentProvider, payment: Payment) -> None:
    """Captured money that bought nothing goes straight back (it never touched the ledger)."""
    if payment.provider_ref:
        await provider.refund(
            payment.provider_ref,
            amount_minor=payment.amount_minor,
            reference=f"payment:{payment.id}:returned",
        )


async def mark_payment(
    session: AsyncSession, payment_id: int, status: PaymentStatus, *, failure: str | None = None
) -> bool:
    """An in-flight payment → ``status`` (guarded: a payment that already ended stays as it
    is). FAILED ends the keep on the order's holds in the same transaction. Commits."""
    moved = await session.scalar(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status.in_([str(s) for s in IN_FLIGHT]))
        .values(status=status, failure_code=failure, updated_at=utcnow())
        .returning(Payment.order_id)
    )
    if moved is not None and status == PaymentStatus.FAILED:
        await inventory.end_payment(session, await reservation_ids(session, moved))
    await session.commit()
    return moved is not None


async def reservation_ids(session: AsyncSession, order_id: int) -> list[int]:
    rows = await session.scalars(
        select(OrderLine.reservation_id).where(
            OrderLine.order_id == order_id, OrderLine.reservation_id.is_not(None)
        )
    )
    return [r for r in rows.all() if r is not None]


async def set_ref(session: AsyncSession, payment_id: int, ref: str | None) -> None:
    if ref:
        await session.execute(
            update(Payment).where(Payment.id == payment_id).values(provider_ref=ref)
        )
        await session.commit()


def _paid_event(order: Order) -> notify.OrderPaid:
    return notify.OrderPaid(
        order_id=order.id,
        shop_id=order.shop_id,
        market_code=order.market_code,
        currency=order.currency,
        total_minor=order.total_minor,
        goods_minor=order.items_minor - order.subsidy_minor,
        live_session_id=order.live_session_id,
        creator_id=order.creator_id,
        lines=tuple(
            notify.PaidLine(
                sku_id=ln.sku_id,
                product_id=ln.product_id,
                title=ln.title,
                quantity=ln.quantity,
                deal_id=ln.deal_id,
            )
            for ln in order.lines
        ),
    )


def _count_on_commit(session: AsyncSession, n: int) -> None:
    """The payments counter (``/metrics``) moves when the payment commits."""

    async def count() -> None:
        PAYMENTS.inc(n)

    if isinstance(session, CommitHookSession):
        on_commit(session, count)
