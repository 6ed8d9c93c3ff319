"""The paid path's statement budget: what one paid order costs the database, so it cannot
creep back (issue 14, "a lean paid path").

``pay_order`` of a sandbox card that succeeds runs three short transactions: the payment row
and its holds kept (SELECT order + lines + payment in flight, INSERT payment, UPDATE holds),
the provider's reference, and the completion (claim the payment, claim the order, its event,
the ledger transaction — INSERT, accounts, postings — the holds sold, their movements, one
guarded UPDATE per stock level). Counted: every statement sent to the database (SQLite's
``BEGIN IMMEDIATE`` counted apart as transactions; COMMITs are not statements here).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import MakeStore, add_sku, stock_of
from tests.support import MakeActor, StatementLog, count_statements

# A paid 1-line order once its ledger accounts exist (every order but a shop's first).
ONE_LINE = 13
# Each more line: one more guarded stock UPDATE (its own stock level); the reservations,
# movements and postings stay one statement each.
PER_MORE_LINE = 1
# The very first sale of a shop also creates its ledger accounts (INSERT + SELECT again).
FIRST_SALE_EXTRA = 2
TRANSACTIONS = 2  # payment + holds kept; completion with the provider's reference


@dataclass
class Paid:
    log: StatementLog
    order_id: int


async def _skus(db: Database, make_store: MakeStore, lines: int) -> tuple[int, list[int]]:
    store = await make_store()
    skus = [store.sku_id, store.other_sku_id]
    while len(skus) < lines:
        skus.append(
            await add_sku(
                db,
                store.shop_id,
                title=f"Extra {len(skus)}",
                category="beauty",
                prices={"GB": ("GBP", 500)},
                stock=100,
            )
        )
    return store.shop_id, skus[:lines]


async def _buy(db: Database, buyer_id: int, skus: list[int], key: str) -> Paid:
    async with db.session() as s:
        placed = await place_order(
            s,
            buyer_id=buyer_id,
            market_code="GB",
            lines=[CheckoutLine(sku_id=k, quantity=1) for k in skus],
            idempotency_key=key,
        )
    provider = SandboxProvider("s", delay_s=-1)
    async with db.session() as s:
        with count_statements(db.engine) as log:
            order = await pay_order(
                s,
                provider,
                order_id=placed.order.id,
                buyer_id=buyer_id,
                card=CardDetails(CARD_SUCCEEDS),
            )
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert [ln.sku_id for ln in order.lines] == skus
    return Paid(log, order.id)


def _transactions(db: Database, log: StatementLog) -> int:
    return len(log) - len(log.work) if db.dialect == "sqlite" else TRANSACTIONS


@pytest.mark.parametrize("lines", [1, 3])
async def test_a_paid_order_stays_within_its_statement_budget(
    db: Database, make_store: MakeStore, make_actor: MakeActor, lines: int
) -> None:
    _, skus = await _skus(db, make_store, lines)
    buyer = await make_actor(Role.BUYER)
    first = await _buy(db, buyer.id, skus, "first")
    again = await _buy(db, buyer.id, skus, "again")

    budget = ONE_LINE + PER_MORE_LINE * (lines - 1)
    assert len(again.log.work) <= budget, again.log.show()
    assert len(first.log.work) <= budget + FIRST_SALE_EXTRA, first.log.show()
    assert _transactions(db, again.log) == TRANSACTIONS, again.log.show()
    # Nothing is read twice: the order and its lines once, never after a write.
    selects = [s for s in again.log.work if s.startswith("SELECT")]
    assert len(selects) == 2, again.log.show()  # order+lines+payment in flight; ledger accounts

    # And it is still the whole sale: stock sold, ledger balanced with the sale posted.
    for sku in skus:
        stock = await stock_of(db, sku)
        assert (stock.held, stock.sold) == (0, 2)
    async with db.session(deferred=True) as s:
        assert await ledger.is_balanced(s)
        for paid in (first, again):
            (tx,) = await ledger.transactions_by_reference_prefix(s, f"order:{paid.order_id}:")
            assert tx.kind == "order.paid" and len(tx.postings) >= 2
