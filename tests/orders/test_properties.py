"""Property: any sequence of checkouts, payments, cancellations, expiries and partial refunds
keeps stock consistent and the ledger balanced, with every party's balance equal to what
the orders say — shipping included, whatever the market's fee (both databases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from liveshop.accounts import service as accounts
from liveshop.catalog.models import Shop
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.inventory import service as inventory
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, balance, trial_balance
from liveshop.markets.service import update_rates
from liveshop.orders import lifecycle
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.status import OrderStatus
from tests.conftest import reset_database
from tests.orders.conftest import add_sku

STOCK = 12

op = st.one_of(
    st.tuples(st.just("checkout"), st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.just("pay"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("expire"), st.just(0), st.just(0)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 3)),
)


async def _scenario(db: Database, ops: list[tuple[str, int, int]], fee: int) -> None:
    await reset_database(db)
    provider = SandboxProvider("p", delay_s=-1)
    async with db.session() as s:
        await update_rates(s, "GB", shipping_fee_minor=fee)  # VAT inside, rounded half-up
        buyer = await accounts.create_user(
            s, email="p@example.com", password="pass-word-1", display_name="P"
        )
        s.add(Shop(slug="p", name="P", home_market="GB"))
        await s.commit()
        shop_id = (await s.scalars(select(Shop.id))).one()
    skus = [
        await add_sku(
            db, shop_id, title="A", category="beauty", prices={"GB": ("GBP", 999)}, stock=STOCK
        ),
        await add_sku(
            db, shop_id, title="B", category="fashion", prices={"GB": ("GBP", 1)}, stock=STOCK
        ),
    ]
    orders: list[int] = []
    clock = utcnow()
    for n, (kind, a, b) in enumerate(ops):
        async with db.session() as s:
            try:
                if kind == "checkout":
                    lines = [CheckoutLine(sku_id=skus[0], quantity=a)]
                    if b > 1:
                        lines.append(CheckoutLine(sku_id=skus[1], quantity=b))
                    placed = await place_order(
                        s,
                        buyer_id=buyer.id,
                        market_code="GB",
                        lines=lines,
                        idempotency_key=f"k{n}",
                        hold_for=timedelta(minutes=5),
                    )
                    orders.append(placed.order.id)
                elif kind == "pay" and orders:
                    await pay_order(
                        s,
                        provider,
                        order_id=orders[a % len(orders)],
                        buyer_id=buyer.id,
                        card=CardDetails(CARD_SUCCEEDS),
                    )
                elif kind == "cancel" and orders:
                    await lifecycle.cancel(
                        s, provider, orders[a % len(orders)], actor_id=None, reason="p"
                    )
                elif kind == "expire":
                    clock += timedelta(minutes=10)
                    await inventory.release_expired(s, now=clock)
                    await s.commit()
                    await lifecycle.cancel_unpaid_expired(s, now=clock)
                elif kind == "refund" and orders:
                    order = await s.get(Order, orders[a % len(orders)])
                    assert order is not None
                    line = order.lines[b % len(order.lines)]
                    await lifecycle.refund(
                        s,
                        provider,
                        order.id,
                        [lifecycle.RefundLine(line.id, 1)],
                        actor_id=None,
                        reason="p",
                    )
            except Problem:
                await s.rollback()
    await _check(db, shop_id, skus)


async def _check(db: Database, shop_id: int, skus: list[int]) -> None:
    async with db.session() as s:
        sold_expected = {sku: 0 for sku in skus}
        owed_seller = owed_tax = owed_platform = clearing = 0
        for order in (await s.scalars(select(Order))).all():
            if order.paid_at is None:
                continue
            refunded_total = 0
            # Shipping goes back per unit of the whole order (cumulative floors).
            units = sum(ln.quantity for ln in order.lines)
            back = sum(ln.refunded_quantity for ln in order.lines)

            def kept(x: int, u: int = units, b: int = back) -> int:
                return x - x * b // u

            owed_tax += kept(order.shipping_tax_minor)
            owed_seller += kept(order.shipping_minor) - kept(order.shipping_tax_minor)
            refunded_total += order.shipping_minor - kept(order.shipping_minor)
            assert order.shipping_subsidy_minor == 0  # no campaign here
            for ln in order.lines:
                q, r = ln.quantity, ln.refunded_quantity
                sold_expected[ln.sku_id] += q - r

                def rest(x: int, q: int = q, r: int = r) -> int:
                    return x - x * r // q

                owed_tax += rest(ln.tax_minor)
                owed_platform += rest(ln.platform_commission_minor)
                owed_seller += (
                    rest(ln.gross_minor) - rest(ln.tax_minor) - rest(ln.platform_commission_minor)
                )
                refunded_total += ln.gross_minor * r // q
            assert order.refunded_minor == refunded_total
            assert order.total_minor == order.items_minor + order.shipping_minor
            clearing += order.total_minor - order.refunded_minor
            if all(ln.refunded_quantity == ln.quantity for ln in order.lines):
                assert order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
        for sku in skus:
            summary = await inventory.stock_summary(s, sku)
            assert min(summary.available, summary.held, summary.sold) >= 0
            assert summary.received == summary.available + summary.held + summary.sold == STOCK
            assert summary.sold == sold_expected[sku]

        assert set((await trial_balance(s)).values()) <= {0}

        def key(t: AccountType, party: str) -> AccountKey:
            return AccountKey(t, party, "GBP")

        assert await balance(s, key(AccountType.SELLER_PAYABLE, f"shop:{shop_id}")) == -owed_seller
        assert await balance(s, key(AccountType.TAX_PAYABLE, "market:GB")) == -owed_tax
        assert await balance(s, key(AccountType.PLATFORM_REVENUE, "market:GB")) == -owed_platform
        assert await balance(s, key(AccountType.PAYMENT_CLEARING, "provider:sandbox")) == clearing
        assert await balance(s, key(AccountType.REFUNDS_PAYABLE, "provider:sandbox")) == 0


def test_orders_keep_stock_and_ledger_consistent(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(ops=st.lists(op, min_size=1, max_size=14), fee=st.sampled_from([0, 1, 7, 300, 1001]))
    def run(ops: list[tuple[str, int, int]], fee: int) -> None:
        loop.run_until_complete(_scenario(db, ops, fee))

    try:
        run()
    finally:
        loop.run_until_complete(reset_database(db))
        loop.run_until_complete(db.dispose())
        loop.close()
