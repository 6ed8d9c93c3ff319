"""Paying for an order: authorize with the provider, then — in one transaction — sell the
held stock, capture, mark the order paid and post the ledger.

The provider is called outside any database transaction. A payment the provider confirms
later (pending card, or a crash between capture and commit) is completed by its signed
webhook through ``complete_payment``, which is idempotent: a paid order is never lost and
never paid twice.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Problem
from liveshop.inventory import service as inventory
from liveshop.inventory.errors import ReservationLost
from liveshop.orders import accounting, notify
from liveshop.orders.models import Order, OrderEvent, Payment, PaymentStatus
from liveshop.orders.payments.provider import CardDetails, ChargeOutcome, PaymentProvider
from liveshop.orders.status import OrderStatus
from liveshop.promotions import claims


class PaymentDeclined(Problem):
    status = 402
    code = "payment-declined"


async def load_order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise NotFound(f"order {order_id} does not exist", code="order-not-found")
    return order


async def pay_order(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    order_id: int,
    buyer_id: int,
    card: CardDetails,
    notifier: notify.OrderNotifier | None = None,
) -> Order:
    order = await load_order(session, order_id)
    if order.buyer_id != buyer_id:
        raise NotFound(f"order {order_id} does not exist", code="order-not-found")
    if order.status != OrderStatus.PENDING_PAYMENT:
        if order.paid_at is not None:
            return order  # already paid: paying again is a no-op, never a second charge
        raise Conflict(f"an order that is {order.status} cannot be paid", code="order-not-payable")
    in_flight = await session.scalar(
        select(Payment.id).where(
            Payment.order_id == order.id,
            Payment.status.in_([PaymentStatus.PROCESSING, PaymentStatus.PENDING]),
        )
    )
    if in_flight is not None:
        raise Conflict(
            "a payment for this order is already in progress", code="payment-in-progress"
        )
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        amount_minor=order.total_minor,
        currency=order.currency,
        card_last4=card.last4,
    )
    session.add(payment)
    await session.commit()

    try:
        result = await provider.authorize(
            amount_minor=order.total_minor,
            currency=order.currency,
            card=card,
            reference=f"order:{order.id}",
        )
    except Exception:
        await _mark_payment(session, payment.id, PaymentStatus.FAILED, failure="provider_error")
        raise
    await _set_ref(session, payment.id, result.provider_ref)

    if result.outcome is ChargeOutcome.FAILED:
        await _mark_payment(session, payment.id, PaymentStatus.FAILED, failure=result.failure_code)
        raise PaymentDeclined(
            result.message or "the payment was declined",
            decline_code=result.failure_code,
            order_id=order.id,
        )
    if result.outcome is ChargeOutcome.PENDING:
        await _mark_payment(session, payment.id, PaymentStatus.PENDING)
        return await load_order(session, order.id)

    assert result.provider_ref is not None
    capture = await provider.capture(result.provider_ref, amount_minor=order.total_minor)
    if capture.outcome is not ChargeOutcome.SUCCEEDED:
        await _mark_payment(session, payment.id, PaymentStatus.FAILED, failure=capture.failure_code)
        raise PaymentDeclined("the payment could not be captured", order_id=order.id)
    return await complete_payment(session, provider, payment_id=payment.id, notifier=notifier)


async def complete_payment(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    payment_id: int,
    notifier: notify.OrderNotifier | None = None,
) -> Order:
    """Captured money → paid order. Idempotent; if the held stock is gone, refund and cancel."""
    payment = await session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise NotFound(f"payment {payment_id} does not exist", code="payment-not-found")
    order = await load_order(session, payment.order_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        return order
    try:
        claimed = await session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.PENDING_PAYMENT)
            .values(status=OrderStatus.PAID, paid_at=utcnow(), updated_at=utcnow())
        )
        if getattr(claimed, "rowcount", 0) != 1:
            # Someone else paid it (a second payment on a cancelled or paid order): give it back.
            await session.rollback()
            return await _refund_orphan_payment(session, provider, payment_id=payment.id)
        for line in order.lines:
            if line.reservation_id is not None:
                await inventory.commit_reservation(session, line.reservation_id)
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(status=PaymentStatus.SUCCEEDED, updated_at=utcnow())
        )
        session.add(
            OrderEvent(
                order_id=order.id,
                from_status=OrderStatus.PENDING_PAYMENT,
                to_status=OrderStatus.PAID,
            )
        )
        await session.flush()
        order = await load_order(session, order.id)
        await accounting.post_sale(session, order, provider=payment.provider)
        await session.commit()
    except ReservationLost:
        await session.rollback()
        return await _stock_lost(session, provider, payment_id=payment.id)
    except BaseException:
        await session.rollback()
        raise
    if notifier is not None:
        await notifier.paid(_paid_event(order))
    return order


async def fail_payment(session: AsyncSession, *, payment_id: int, failure_code: str | None) -> None:
    await _mark_payment(session, payment_id, PaymentStatus.FAILED, failure=failure_code or "failed")


async def _stock_lost(
    session: AsyncSession, provider: PaymentProvider, *, payment_id: int
) -> Order:
    """The hold expired and the units sold to someone else before this payment arrived."""
    payment = await session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    await _give_money_back(provider, payment)
    await _mark_payment(session, payment.id, PaymentStatus.FAILED, failure="stock_lost")
    await session.execute(
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
    await claims.release_order_claims(session, payment.order_id)
    await session.commit()
    raise ReservationLost(
        "the item sold out before your payment arrived; your payment was returned in full",
        order_id=payment.order_id,
    )


async def _refund_orphan_payment(
    session: AsyncSession, provider: PaymentProvider, *, payment_id: int
) -> Order:
    payment = await session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    await _give_money_back(provider, payment)
    await _mark_payment(session, payment.id, PaymentStatus.FAILED, failure="order_not_payable")
    return await load_order(session, payment.order_id)


async def _give_money_back(provider: PaymentProvider, payment: Payment) -> None:
    """Captured money that bought nothing goes straight back (it never touched the ledger)."""
    if payment.provider_ref:
        await provider.refund(
            payment.provider_ref,
            amount_minor=payment.amount_minor,
            reference=f"payment:{payment.id}:returned",
        )


async def _mark_payment(
    session: AsyncSession, payment_id: int, status: PaymentStatus, *, failure: str | None = None
) -> None:
    await session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(status=status, failure_code=failure, updated_at=utcnow())
    )
    await session.commit()


async def _set_ref(session: AsyncSession, payment_id: int, ref: str | None) -> None:
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
