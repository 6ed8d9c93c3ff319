"""A payment a crash left in flight is resolved by asking the provider (both databases).

The crash is the process dying inside ``provider.authorize``: a ``BaseException`` that
``pay_order`` does not catch, raised before or after the sandbox recorded the charge. The
provider asked afterwards is a new ``SandboxProvider`` over the same database, as after a
restart.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict
from liveshop.inventory import service as inventory
from liveshop.inventory.models import Reservation, ReservationStatus
from liveshop.ledger.models import LedgerTransaction
from liveshop.orders import completion
from liveshop.orders.checkout import place_order
from liveshop.orders.lifecycle import cancel_unpaid_expired
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order, Payment, PaymentStatus
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payment_recovery import NEVER_SEEN, idempotency_key, recover_stuck
from liveshop.orders.payments.provider import CardDetails, ChargeOutcome, ProviderResult
from liveshop.orders.payments.sandbox import CARD_DECLINED, CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.payments.sandbox_charges import CAPTURED, SandboxCharge
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import MakeStore, stock_of, trial_balance
from tests.support import MakeActor


class Crash(BaseException):
    """The process died here (nothing after it runs, nothing catches it)."""


class CrashingSandbox(SandboxProvider):
    """Dies inside ``authorize``: after the sandbox recorded the charge, or before it saw it."""

    def __init__(self, db: Database, *, provider_saw_it: bool) -> None:
        super().__init__("s", delay_s=-1, db=db)
        self.provider_saw_it = provider_saw_it

    async def authorize(self, **kwargs: Any) -> ProviderResult:
        if self.provider_saw_it:
            await super().authorize(**kwargs)
        raise Crash


def restarted(db: Database) -> SandboxProvider:
    return SandboxProvider("s", delay_s=-1, db=db)


async def _order(db: Database, buyer_id: int, sku_id: int, key: str = "k") -> int:
    async with db.session() as s:
        placed = await place_order(
            s,
            buyer_id=buyer_id,
            market_code="GB",
            lines=[CheckoutLine(sku_id=sku_id, quantity=2)],
            idempotency_key=key,
        )
        return placed.order.id


async def _pay(
    db: Database, provider: SandboxProvider, order_id: int, buyer_id: int, card: str
) -> Order:
    async with db.session() as s:
        return await pay_order(
            s, provider, order_id=order_id, buyer_id=buyer_id, card=CardDetails(card)
        )


async def _crash_mid_payment(
    db: Database, order_id: int, buyer_id: int, *, provider_saw_it: bool, card: str = CARD_SUCCEEDS
) -> None:
    with pytest.raises(Crash):
        await _pay(
            db, CrashingSandbox(db, provider_saw_it=provider_saw_it), order_id, buyer_id, card
        )


async def _age(db: Database, *, by: timedelta = timedelta(hours=1)) -> None:
    """Make every in-flight payment older than the grace period (time passing)."""
    async with db.session() as s:
        await s.execute(update(Payment).values(updated_at=utcnow() - by))
        await s.commit()


async def _expire_holds(db: Database) -> None:
    async with db.session() as s:
        await s.execute(update(Reservation).values(expires_at=utcnow() - timedelta(minutes=1)))
        await s.execute(update(Order).values(hold_expires_at=utcnow() - timedelta(minutes=1)))
        await s.commit()


async def _payments(db: Database, order_id: int) -> list[tuple[str, str | None]]:
    async with db.session(deferred=True) as s:
        rows = await s.execute(
            select(Payment.status, Payment.failure_code)
            .where(Payment.order_id == order_id)
            .order_by(Payment.id)
        )
        return [(status, failure) for status, failure in rows.all()]


async def _status(db: Database, order_id: int) -> str:
    async with db.session(deferred=True) as s:
        return str(await s.scalar(select(Order.status).where(Order.id == order_id)))


async def _identity(db: Database, sku_id: int) -> tuple[int, int, int]:
    stock = await stock_of(db, sku_id)
    assert stock.received == stock.available + stock.held + stock.sold
    return stock.available, stock.held, stock.sold


async def test_provider_charged_it_the_order_is_paid_once(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=True)
    assert await _payments(db, order_id) == [(PaymentStatus.PROCESSING, None)]

    provider = restarted(db)
    assert await recover_stuck(db, provider) == 0  # fresh: it may still be answered
    await _age(db)
    assert await recover_stuck(db, provider) == 1
    assert await _status(db, order_id) == OrderStatus.PAID
    assert await _payments(db, order_id) == [(PaymentStatus.SUCCEEDED, None)]
    assert await _identity(db, store.sku_id) == (3, 0, 2)
    assert await trial_balance(db) == {"GBP": 0}
    async with db.session(deferred=True) as s:
        charge = await s.get(SandboxCharge, idempotency_key(1))
        assert charge is not None and charge.status == CAPTURED  # authorized → captured
    assert await recover_stuck(db, provider) == 0  # nothing left in flight


async def test_provider_declined_it_the_order_is_payable_again(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=True, card=CARD_DECLINED)
    await _age(db)
    provider = restarted(db)
    assert await recover_stuck(db, provider) == 1
    assert await _payments(db, order_id) == [(PaymentStatus.FAILED, "card_declined")]
    assert await _status(db, order_id) == OrderStatus.PENDING_PAYMENT
    assert await _identity(db, store.sku_id) == (3, 2, 0)
    paid = await _pay(db, provider, order_id, buyer.id, CARD_SUCCEEDS)
    assert paid.status == OrderStatus.PAID
    assert await _identity(db, store.sku_id) == (3, 0, 2)
    assert await trial_balance(db) == {"GBP": 0}


async def test_provider_never_saw_it_the_payment_fails(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=False)
    await _age(db)
    provider = restarted(db)
    assert await provider.find_charge(idempotency_key(1)) is None
    assert await recover_stuck(db, provider) == 1
    assert await _payments(db, order_id) == [(PaymentStatus.FAILED, NEVER_SEEN)]
    assert await _status(db, order_id) == OrderStatus.PENDING_PAYMENT
    paid = await _pay(db, provider, order_id, buyer.id, CARD_SUCCEEDS)
    assert paid.status == OrderStatus.PAID
    assert await trial_balance(db) == {"GBP": 0}


async def test_a_retry_waits_for_a_fresh_payment_and_resolves_a_stale_one(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=True)
    provider = restarted(db)
    with pytest.raises(Conflict) as fresh:
        await _pay(db, provider, order_id, buyer.id, CARD_SUCCEEDS)
    assert fresh.value.code == "payment-in-progress"
    await _age(db)
    paid = await _pay(db, provider, order_id, buyer.id, CARD_SUCCEEDS)
    assert paid.status == OrderStatus.PAID
    # The charge the crash left behind paid the order: no second payment, no second charge.
    assert await _payments(db, order_id) == [(PaymentStatus.SUCCEEDED, None)]
    async with db.session(deferred=True) as s:
        assert len((await s.scalars(select(SandboxCharge))).all()) == 1
    assert await _identity(db, store.sku_id) == (3, 0, 2)
    assert await trial_balance(db) == {"GBP": 0}


async def test_a_stale_retry_the_provider_never_saw_pays_with_a_new_payment(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=False)
    await _age(db)
    paid = await _pay(db, restarted(db), order_id, buyer.id, CARD_SUCCEEDS)
    assert paid.status == OrderStatus.PAID
    assert await _payments(db, order_id) == [
        (PaymentStatus.FAILED, NEVER_SEEN),
        (PaymentStatus.SUCCEEDED, None),
    ]
    assert await trial_balance(db) == {"GBP": 0}


async def test_the_hold_is_kept_while_a_payment_is_in_flight(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=False)
    await _expire_holds(db)
    async with db.session() as s:
        assert await inventory.release_expired(s) == 0  # the charge may still succeed
        assert await cancel_unpaid_expired(s) == 0
        await s.commit()
    assert await _identity(db, store.sku_id) == (3, 2, 0)  # stock reads release lazily too

    await _age(db)
    assert await recover_stuck(db, restarted(db)) == 1  # never charged: the keep ends
    async with db.session() as s:
        assert await inventory.release_expired(s) == 1
        assert await cancel_unpaid_expired(s) == 1
        await s.commit()
    assert await _status(db, order_id) == OrderStatus.CANCELLED
    assert await _identity(db, store.sku_id) == (5, 0, 0)
    assert await trial_balance(db) == {}


async def test_charged_while_the_hold_clock_ran_out_still_sells_the_held_units(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=2)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=True)
    await _expire_holds(db)
    async with db.session() as s:
        assert await inventory.release_expired(s) == 0
        await s.commit()
    other = await make_actor(Role.BUYER)
    with pytest.raises(Conflict):  # the units are not on sale again
        await _order(db, other.id, store.sku_id, key="other")
    await _age(db)
    assert await recover_stuck(db, restarted(db)) == 1
    assert await _status(db, order_id) == OrderStatus.PAID
    async with db.session(deferred=True) as s:
        statuses = set((await s.scalars(select(Reservation.status))).all())
    assert statuses == {ReservationStatus.COMMITTED}
    assert await _identity(db, store.sku_id) == (0, 0, 2)
    assert await trial_balance(db) == {"GBP": 0}


async def test_the_sandbox_answers_a_repeated_key_with_the_first_charge(db: Database) -> None:
    provider = restarted(db)
    first = await provider.authorize(
        amount_minor=100,
        currency="GBP",
        card=CardDetails(CARD_SUCCEEDS),
        reference="r",
        idempotency_key="payment:9",
    )
    again = await restarted(db).authorize(
        amount_minor=100,
        currency="GBP",
        card=CardDetails(CARD_DECLINED),
        reference="r",
        idempotency_key="payment:9",
    )
    assert again == first and first.outcome is ChargeOutcome.SUCCEEDED
    found = await provider.find_charge("payment:9")
    assert found is not None and found.provider_ref == first.provider_ref
    assert not found.captured


class RefundCountingSandbox(SandboxProvider):
    """The sandbox, counting the money it is asked to give back."""

    def __init__(self, db: Database) -> None:
        super().__init__("s", delay_s=-1, db=db)
        self.refunds = 0

    async def refund(
        self, provider_ref: str, *, amount_minor: int, reference: str
    ) -> ProviderResult:
        self.refunds += 1
        return await super().refund(provider_ref, amount_minor=amount_minor, reference=reference)


async def test_two_completions_of_one_payment_at_once_pay_the_order_once_and_refund_nothing(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    """The webhook and the buyer's request (or the recovery loop) complete the same captured
    payment at the same moment: the order is paid once, the ledger posts the sale once, and the
    loser does not take the orphan-payment path (which would give the buyer's money back)."""
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    order_id = await _order(db, buyer.id, store.sku_id)
    await _crash_mid_payment(db, order_id, buyer.id, provider_saw_it=True)
    provider = RefundCountingSandbox(db)
    async with db.session(deferred=True) as s:
        payment = (await s.scalars(select(Payment).where(Payment.order_id == order_id))).one()
    payment_id = payment.id
    charge = await provider.find_charge(idempotency_key(payment_id))
    assert charge is not None
    await provider.capture(charge.provider_ref, amount_minor=payment.amount_minor)

    async def complete() -> OrderStatus:
        async with db.session() as s:
            order = await completion.complete_payment(s, provider, payment_id=payment_id)
            return OrderStatus(order.status)

    assert await asyncio.gather(complete(), complete()) == [OrderStatus.PAID, OrderStatus.PAID]
    assert provider.refunds == 0
    assert await _payments(db, order_id) == [(PaymentStatus.SUCCEEDED, None)]
    assert await _identity(db, store.sku_id) == (3, 0, 2)
    async with db.session(deferred=True) as s:
        sales = await s.scalars(
            select(LedgerTransaction.id).where(
                LedgerTransaction.reference == f"order:{order_id}:paid"
            )
        )
        assert len(sales.all()) == 1
    assert await trial_balance(db) == {"GBP": 0}
