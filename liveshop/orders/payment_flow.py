"""Paying for an order: authorize with the provider, then — in one transaction — sell the
held stock, capture, mark the order paid and post the ledger (``completion``).

The provider is called outside any database transaction, under the idempotency key
``payment:<id>`` (the payment row is committed first, so the key is known before the call).
While the payment is in flight its order's holds do not expire (``inventory.keep_for_payment``
in the transaction that creates it): the charge may still succeed. A payment the provider
confirms later (pending card) is completed by its signed webhook; one left ``processing`` by a
crash is resolved by asking the provider (``payment_recovery``) — in the background, or when
the buyer tries again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from liveshop.core.errors import Conflict, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.orders import completion, notify, payment_recovery
from liveshop.orders.completion import PaymentDeclined, load_order
from liveshop.orders.models import Order, Payment, PaymentStatus
from liveshop.orders.payments.declines import decline_words
from liveshop.orders.payments.provider import ChargeOutcome, PaymentProvider, PaymentSource
from liveshop.orders.status import OrderStatus


async def pay_order(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    order_id: int,
    buyer_id: int,
    card: PaymentSource,
    notifier: notify.OrderNotifier | None = None,
) -> Order:
    order, in_flight = await _load_for_payment(session, order_id)
    if order.buyer_id != buyer_id:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    if order.status != OrderStatus.PENDING_PAYMENT:
        if order.paid_at is not None:
            return order  # already paid: paying again is a no-op, never a second charge
        raise Conflict(
            _("an order that is %(status)s cannot be paid", status=order.status),
            code="order-not-payable",
        )
    if in_flight is not None:
        # A payment a crash left in flight is resolved now (asking the provider), not 409
        # forever; a fresh one is really in progress.
        await payment_recovery.resolve_stale(session, provider, in_flight, notifier=notifier)
        order = await load_order(session, order_id)
        if order.paid_at is not None:
            return order
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(
                _("an order that is %(status)s cannot be paid", status=order.status),
                code="order-not-payable",
            )
        if await _in_flight(session, order.id) is not None:
            raise Conflict(
                _("a payment for this order is already in progress"), code="payment-in-progress"
            )
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        amount_minor=order.total_minor,
        currency=order.currency,
        card_last4=card.last4,
    )
    session.add(payment)
    # Until this payment is resolved its units stay held, whatever the hold's clock says.
    await inventory.keep_for_payment(
        session, [ln.reservation_id for ln in order.lines if ln.reservation_id is not None]
    )
    await session.commit()

    got = await charge(session, provider, order=order, payment_id=payment.id, card=card)
    if isinstance(got, Order):
        return got  # pending: its webhook completes it
    (done,) = await completion.complete_payments(session, provider, [got], notifier=notifier)
    if isinstance(done, Exception):
        raise done
    return done


async def charge(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    order: Order,
    payment_id: int,
    card: PaymentSource,
) -> completion.Captured | Order:
    """Ask the provider for the order's money under the payment's idempotency key (no
    transaction open): ``Captured`` to complete (``completion.complete_payments``, which
    records the provider's reference with the sale), or the order still pending when the
    provider answers later (its webhook completes it). A decline or a failed capture ends the
    payment (402); a provider error ends it and is raised."""
    try:
        result = await provider.authorize(
            amount_minor=order.total_minor,
            currency=order.currency,
            card=card,
            reference=f"order:{order.id}",
            idempotency_key=payment_recovery.idempotency_key(payment_id),
        )
    except Exception:
        await completion.mark_payment(
            session, payment_id, PaymentStatus.FAILED, failure="provider_error"
        )
        raise
    if result.outcome is ChargeOutcome.FAILED:
        await completion.set_ref(session, payment_id, result.provider_ref)
        await completion.mark_payment(
            session, payment_id, PaymentStatus.FAILED, failure=result.failure_code
        )
        raise PaymentDeclined(
            str(decline_words(result.failure_code, result.message)),
            decline_code=result.failure_code,
            order_id=order.id,
        )
    if result.outcome is ChargeOutcome.PENDING:
        await completion.set_ref(session, payment_id, result.provider_ref)
        await completion.mark_payment(session, payment_id, PaymentStatus.PENDING)
        return await load_order(session, order.id)

    assert result.provider_ref is not None
    capture = await provider.capture(result.provider_ref, amount_minor=order.total_minor)
    if capture.outcome is not ChargeOutcome.SUCCEEDED:
        await completion.set_ref(session, payment_id, result.provider_ref)
        await completion.mark_payment(
            session, payment_id, PaymentStatus.FAILED, failure=capture.failure_code
        )
        raise PaymentDeclined(_("the payment could not be captured"), order_id=order.id)
    return completion.Captured(payment_id, order, result.provider_ref)


def _in_flight_of(order_id: Any) -> Any:
    """The oldest payment of the order still in flight (its id), if any."""
    return (
        select(Payment.id)
        .where(
            Payment.order_id == order_id,
            Payment.status.in_([str(s) for s in completion.IN_FLIGHT]),
        )
        .order_by(Payment.id)
        .limit(1)
    )


async def _in_flight(session: AsyncSession, order_id: int) -> int | None:
    return await session.scalar(_in_flight_of(order_id))


async def payment_in_progress(session: AsyncSession, order_id: int) -> bool:
    """A payment of the order is still in flight (a pending card the provider has not
    settled yet): paying again now would be refused (409 ``payment-in-progress``)."""
    return await _in_flight(session, order_id) is not None


async def _load_for_payment(session: AsyncSession, order_id: int) -> tuple[Order, int | None]:
    """The order with its lines, and its payment in flight: one statement (fresh values).

    The order's row is locked until the payment is recorded (this transaction's commit): a
    coupon applied at the same moment (``orders.recoupon``, which locks it too) either
    changed the total before it is read here, or waits and then finds the payment in
    flight — the charge is never for a total the order no longer has."""
    row = (
        (
            await session.execute(
                select(Order, _in_flight_of(Order.id).scalar_subquery())
                .options(joinedload(Order.lines))
                .where(Order.id == order_id)
                .with_for_update(of=Order),
                execution_options={"populate_existing": True},
            )
        )
        .unique()
        .one_or_none()
    )
    if row is None:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    return row[0], row[1]
