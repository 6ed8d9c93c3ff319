"""Payments that never get stuck: one left in flight too long is resolved by asking the provider.

A payment is ``processing`` from the moment its row commits until the provider's answer is
written. If liveshop dies in between (``kill -9`` mid-request), nobody would ever write that
answer: every retry would meet "payment in progress", and the order's held units could not be
sold (while a payment is in flight its holds do not expire: the charge may still succeed). So
a payment that has been in flight (``processing``, or ``pending`` without its webhook) for
longer than the grace period (``payment_recovery_grace_seconds``) is resolved by asking the
provider for the charge made under its idempotency key (``payment:<id>``):

- succeeded → captured if it was only authorized, then ``complete_payment`` exactly as the
  pay request or the webhook would (idempotent; a hold that expired meanwhile is taken again
  or the money goes back and the order is cancelled);
- failed, or never seen by the provider → the payment fails and the order is payable again
  (its holds expire again by their own clock; the unpaid-order sweeper cancels it when due);
- still pending → stays pending, asked again after another grace period.

Resolution runs in the background (``PaymentRecovery``, every ``payment_recovery_seconds``)
and on the buyer's retry (``pay_order``). A resolver first claims the payment with a guarded
UPDATE (still in flight and untouched for the grace period → touch it), so two resolvers —
the loop and a retry, or two nodes — never resolve one payment at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.core.settings import get_settings
from liveshop.core.tasks import stop_if_cancelled
from liveshop.orders import completion, notify
from liveshop.orders.models import Payment, PaymentStatus
from liveshop.orders.payments.provider import ChargeOutcome, PaymentProvider

log = structlog.get_logger("liveshop.orders.payment_recovery")

NEVER_SEEN = "provider_never_saw_it"


def idempotency_key(payment_id: int) -> str:
    """The key a payment's charge is asked for under; the provider finds it again by it."""
    return f"payment:{payment_id}"


def grace() -> timedelta:
    return timedelta(seconds=get_settings().payment_recovery_grace_seconds)


async def _claim(
    session: AsyncSession, payment_id: int, *, untouched_since: datetime
) -> int | None:
    """Touch the payment if it is in flight and untouched since then; its amount, or None."""
    amount = await session.scalar(
        update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.status.in_([str(s) for s in completion.IN_FLIGHT]),
            Payment.updated_at <= untouched_since,
        )
        .values(updated_at=utcnow())
        .returning(Payment.amount_minor)
    )
    await session.commit()
    return None if amount is None else int(amount)


async def resolve_stale(
    session: AsyncSession,
    provider: PaymentProvider,
    payment_id: int,
    *,
    now: datetime | None = None,
    notifier: notify.OrderNotifier | None = None,
) -> bool:
    """Resolve the payment if it has been in flight longer than the grace period.

    False: it is fresh (or already resolved, or another resolver has it) — nothing done.
    ``ReservationLost`` when the charge succeeded but the units are gone (refunded, cancelled).
    """
    now = now or utcnow()
    amount = await _claim(session, payment_id, untouched_since=now - grace())
    if amount is None:
        return False
    charge = await provider.find_charge(idempotency_key(payment_id))
    if charge is None or charge.outcome is ChargeOutcome.FAILED:
        why = NEVER_SEEN if charge is None else charge.failure_code or "failed"
        await completion.mark_payment(session, payment_id, PaymentStatus.FAILED, failure=why)
        log.info("stuck payment failed", payment_id=payment_id, why=why)
        return True
    await completion.set_ref(session, payment_id, charge.provider_ref)
    if charge.outcome is ChargeOutcome.PENDING:
        await completion.mark_payment(session, payment_id, PaymentStatus.PENDING)
        return True
    if not charge.captured:
        captured = await provider.capture(charge.provider_ref, amount_minor=amount)
        if captured.outcome is not ChargeOutcome.SUCCEEDED:
            await completion.mark_payment(
                session, payment_id, PaymentStatus.FAILED, failure=captured.failure_code
            )
            return True
    await completion.complete_payment(session, provider, payment_id=payment_id, notifier=notifier)
    log.info("stuck payment completed", payment_id=payment_id)
    return True


async def recover_stuck(
    db: Database,
    provider: PaymentProvider,
    *,
    now: datetime | None = None,
    notifier: notify.OrderNotifier | None = None,
    limit: int = 100,
) -> int:
    """Resolve every payment of ``provider`` in flight for longer than the grace period."""
    now = now or utcnow()
    async with db.session(deferred=True) as session:
        ids = (
            await session.scalars(
                select(Payment.id)
                .where(
                    Payment.provider == provider.name,
                    Payment.status.in_([str(s) for s in completion.IN_FLIGHT]),
                    Payment.updated_at <= now - grace(),
                )
                .order_by(Payment.id)
                .limit(limit)
            )
        ).all()
    resolved = 0
    for payment_id in ids:
        async with db.session() as session:
            try:
                resolved += await resolve_stale(
                    session, provider, payment_id, now=now, notifier=notifier
                )
            except Problem as exc:  # stock lost: the buyer was refunded, the order cancelled
                resolved += 1
                log.info("stuck payment not completed", payment_id=payment_id, why=exc.code)
    return resolved


class PaymentRecovery:
    """Every ``interval_s`` seconds, resolve the payments stuck in flight (like the sweepers)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(
        self,
        db: Database,
        providers: list[PaymentProvider],
        interval_s: float,
        *,
        notifier: notify.OrderNotifier | None = None,
    ) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                self._run(db, providers, interval_s, notifier), name="payment-recovery"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(
        self,
        db: Database,
        providers: list[PaymentProvider],
        interval_s: float,
        notifier: notify.OrderNotifier | None,
    ) -> None:
        while True:
            await asyncio.sleep(interval_s)
            for provider in providers:
                try:
                    resolved = await recover_stuck(db, provider, notifier=notifier)
                    if resolved:
                        log.info("resolved stuck payments", resolved=resolved)
                except Exception:
                    stop_if_cancelled()
                    log.exception("payment recovery failed", provider=provider.name)
