"""``completion.complete_payments``: a batch of captured payments completed in one
transaction — and, when one of them is not where a fresh payment would be (a webhook completed
it first), completed one by one instead, so nothing is sold, posted or counted twice (both
databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.ledger.models import LedgerTransaction
from liveshop.orders import completion
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order, Payment, PaymentStatus
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import MakeStore, stock_of, trial_balance
from tests.support import MakeActor


async def _captured(db: Database, buyer_id: int, sku_id: int, n: int) -> list[completion.Captured]:
    """``n`` orders of one unit, each with a payment in flight (as the pay desk leaves them
    once the provider has captured the money)."""
    out = []
    for i in range(n):
        async with db.session() as s:
            placed = await place_order(
                s,
                buyer_id=buyer_id,
                market_code="GB",
                lines=[CheckoutLine(sku_id=sku_id, quantity=1)],
                idempotency_key=f"batch-{i}",
            )
            order = placed.order
            payment = Payment(
                order_id=order.id,
                provider="sandbox",
                amount_minor=order.total_minor,
                currency=order.currency,
                card_last4="4242",
            )
            s.add(payment)
            held = [ln.reservation_id for ln in order.lines if ln.reservation_id is not None]
            await inventory.keep_for_payment(s, held)
            await s.commit()
            out.append(completion.Captured(payment.id, order, f"ch_{i}"))
    return out


async def test_a_batch_is_completed_in_one_go(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=10)
    buyer = await make_actor(Role.BUYER)
    batch = await _captured(db, buyer.id, store.sku_id, 4)
    async with db.session() as s:
        done = await completion.complete_payments(s, SandboxProvider("s", delay_s=-1), batch)
    assert all(isinstance(o, Order) and o.status == OrderStatus.PAID for o in done)
    stock = await stock_of(db, store.sku_id)
    assert (stock.available, stock.held, stock.sold) == (6, 0, 4)
    assert await trial_balance(db) == {"GBP": 0}
    async with db.session(deferred=True) as s:
        refs = (await s.scalars(select(Payment.provider_ref).order_by(Payment.id))).all()
        assert refs == ["ch_0", "ch_1", "ch_2", "ch_3"]


async def test_one_payment_completed_first_sends_the_batch_one_by_one(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=10)
    buyer = await make_actor(Role.BUYER)
    provider = SandboxProvider("s", delay_s=-1)
    batch = await _captured(db, buyer.id, store.sku_id, 3)
    async with db.session() as s:  # the provider's webhook completed the second one first
        await completion.complete_payment(s, provider, payment_id=batch[1].payment_id)
    async with db.session() as s:
        done = await completion.complete_payments(s, provider, batch)
    assert [o.status for o in done if isinstance(o, Order)] == [OrderStatus.PAID] * 3
    stock = await stock_of(db, store.sku_id)
    assert (stock.available, stock.held, stock.sold) == (7, 0, 3)  # each unit sold once
    assert await trial_balance(db) == {"GBP": 0}
    async with db.session(deferred=True) as s:
        sales = await s.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.kind == "order.paid")
        )
        statuses = (await s.scalars(select(Payment.status))).all()
    assert sales == 3  # never posted twice
    assert statuses == [PaymentStatus.SUCCEEDED] * 3
