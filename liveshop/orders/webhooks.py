"""Signed provider webhooks, each handled exactly once (a redelivery changes nothing)."""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Problem
from liveshop.orders import completion, refunds
from liveshop.orders.models import Payment, ProcessedWebhook, Refund
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payments.provider import PaymentProvider

log = structlog.get_logger("liveshop.orders.webhooks")


async def handle_webhook(
    session: AsyncSession,
    provider: PaymentProvider,
    body: bytes,
    headers: Mapping[str, str],
    *,
    notifier: OrderNotifier | None = None,
) -> str:
    """Verify, record, act. Returns 'processed', 'duplicate' or 'ignored'."""
    event = provider.verify_webhook(body, headers)
    session.add(
        ProcessedWebhook(provider=provider.name, event_id=event.event_id, event_type=event.type)
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return "duplicate"

    if event.type.startswith("payment."):
        payment = await session.scalar(
            select(Payment).where(
                Payment.provider == provider.name, Payment.provider_ref == event.provider_ref
            )
        )
        if payment is None:
            log.warning("webhook for an unknown payment", ref=event.provider_ref)
            return "ignored"
        if event.type == "payment.succeeded":
            try:
                await completion.complete_payment(
                    session, provider, payment_id=payment.id, notifier=notifier
                )
            except Problem as exc:  # e.g. stock lost: the buyer was refunded, order cancelled
                log.info("webhook payment not completed", payment_id=payment.id, why=exc.code)
            return "processed"
        if event.type == "payment.failed":
            await completion.fail_payment(
                session, payment_id=payment.id, failure_code=str(event.data.get("failure_code", ""))
            )
            return "processed"
    if event.type == "refund.succeeded":
        refund_id = await session.scalar(
            select(Refund.id).where(Refund.provider_ref == event.provider_ref)
        )
        if refund_id is not None:
            await refunds.settle_refund(session, refund_id, provider_ref=event.provider_ref)
            return "processed"
    return "ignored"
