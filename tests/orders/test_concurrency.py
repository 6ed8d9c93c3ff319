"""300 buyers race for 50 units through the real checkout and payment code (both databases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.inventory import service as inventory
from liveshop.orders.checkout import place_order
from liveshop.orders.lifecycle import cancel_unpaid_expired
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import MakeStore, stock_of, trial_balance
from tests.support import MakeActor

BUYERS = 300
UNITS = 50


async def _buy(db: Database, provider: SandboxProvider, buyer_id: int, sku_id: int, n: int) -> str:
    try:
        async with db.session() as s:
            placed = await place_order(
                s,
                buyer_id=buyer_id,
                market_code="GB",
                lines=[CheckoutLine(sku_id=sku_id, quantity=1)],
                idempotency_key=f"race-{n}",
            )
            await pay_order(
                s,
                provider,
                order_id=placed.order.id,
                buyer_id=buyer_id,
                card=CardDetails(CARD_SUCCEEDS),
            )
        return "paid"
    except Problem as exc:
        return exc.code


async def _statuses(db: Database) -> dict[str, int]:
    async with db.session(deferred=True) as s:
        rows = await s.execute(select(Order.status, func.count()).group_by(Order.status))
        return {status: int(n) for status, n in rows.all()}


async def test_300_buyers_50_units_exactly_50_paid(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=UNITS)
    buyer = await make_actor(Role.BUYER)
    provider = SandboxProvider("s", delay_s=-1)
    results = await asyncio.gather(
        *(_buy(db, provider, buyer.id, store.sku_id, n) for n in range(BUYERS))
    )
    assert results.count("paid") == UNITS
    assert set(results) == {"paid", "out-of-stock"}
    stock = await stock_of(db, store.sku_id)
    assert (stock.available, stock.held, stock.sold, stock.received) == (0, 0, UNITS, UNITS)
    assert await _statuses(db) == {OrderStatus.PAID: UNITS}
    assert await trial_balance(db) == {"GBP": 0}


async def test_expired_holds_give_every_unit_back(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=UNITS)
    buyer = await make_actor(Role.BUYER)

    async def hold(n: int) -> Any:
        try:
            async with db.session() as s:
                return await place_order(
                    s,
                    buyer_id=buyer.id,
                    market_code="GB",
                    lines=[CheckoutLine(sku_id=store.sku_id, quantity=1)],
                    idempotency_key=f"hold-{n}",
                    hold_for=timedelta(minutes=1),
                )
        except Problem as exc:
            return exc.code

    results = await asyncio.gather(*(hold(n) for n in range(BUYERS)))
    assert sum(1 for r in results if not isinstance(r, str)) == UNITS
    held = await stock_of(db, store.sku_id)
    assert (held.available, held.held) == (0, UNITS)

    later = utcnow() + timedelta(minutes=2)
    async with db.session() as s:
        assert await inventory.release_expired(s, now=later) == UNITS
        await s.commit()
    async with db.session() as s:
        assert await cancel_unpaid_expired(s, now=later) == UNITS
    back = await stock_of(db, store.sku_id)
    assert (back.available, back.held, back.sold) == (UNITS, 0, 0)
    assert await _statuses(db) == {OrderStatus.CANCELLED: UNITS}
