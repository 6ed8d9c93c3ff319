"""``ledger.append_many``: a batch of transactions (a drop's paid orders) written with one
INSERT of the transactions and one of their postings; each idempotent as ``append`` is, all
checked before anything is written (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.db import Database
from liveshop.core.errors import Conflict
from liveshop.ledger import service as ledger
from liveshop.ledger.entries import InvalidPosting, Posting, UnbalancedTransaction
from liveshop.ledger.models import LedgerPosting, LedgerTransaction
from tests.ledger.test_posting import CLEARING, REVENUE, SALE, SHOP
from tests.support import count_statements


def sale(n: int) -> ledger.Entry:
    return ledger.Entry(kind="order.paid", reference=f"order:{n}:paid", postings=SALE)


async def _rows(session: AsyncSession) -> tuple[int, int]:
    txs = await session.scalar(select(func.count()).select_from(LedgerTransaction))
    postings = await session.scalar(select(func.count()).select_from(LedgerPosting))
    return int(txs or 0), int(postings or 0)


async def test_a_batch_is_written_in_a_fixed_number_of_statements(
    db: Database, session: AsyncSession
) -> None:
    await ledger.append_many(session, [sale(0)])  # the accounts exist from now on
    with count_statements(db.engine) as log:
        ids = await ledger.append_many(session, [sale(n) for n in range(1, 41)])
    assert len(ids) == len(set(ids)) == 40
    # The transactions, their accounts, their postings: whatever the batch's size.
    assert len(log.work) == 3, log.show()
    assert await _rows(session) == (41, 41 * len(SALE))
    assert await ledger.is_balanced(session)
    for n, tx_id in zip(range(1, 41), ids, strict=True):
        tx = await session.scalar(
            select(LedgerTransaction).where(LedgerTransaction.reference == f"order:{n}:paid")
        )
        assert tx is not None and tx.id == tx_id


async def test_a_reference_already_written_is_replayed_or_refused(session: AsyncSession) -> None:
    (first,) = await ledger.append_many(session, [sale(1)])
    again = await ledger.append_many(session, [sale(1), sale(2)])
    assert again[0] == first and again[1] != first
    assert await _rows(session) == (2, 2 * len(SALE))
    other = ledger.Entry(
        kind="order.paid",
        reference="order:2:paid",
        postings=[Posting(CLEARING, 100), Posting(SHOP, -100)],
    )
    with pytest.raises(Conflict) as refused:
        await ledger.append_many(session, [sale(3), other])
    assert refused.value.code == "ledger-reference-reused"


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ([sale(1), sale(1)], InvalidPosting),  # one reference twice in a batch
        (
            [sale(1), ledger.Entry("x", "r", [Posting(CLEARING, 5), Posting(REVENUE, -4)])],
            UnbalancedTransaction,
        ),
        ([sale(1), ledger.Entry("", "r2", SALE)], InvalidPosting),
    ],
)
async def test_a_bad_entry_stops_the_batch_before_anything_is_written(
    session: AsyncSession, entries: list[ledger.Entry], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await ledger.append_many(session, entries)
    assert await _rows(session) == (0, 0)
