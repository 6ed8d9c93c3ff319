"""Posting on both databases: validation, idempotency, append-only, derived balances."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.db import Database
from liveshop.core.errors import Conflict
from liveshop.ledger import service as ledger
from liveshop.ledger.entries import AccountKey, InvalidPosting, Posting, UnbalancedTransaction
from liveshop.ledger.models import AccountType, LedgerAccount, LedgerPosting, LedgerTransaction
from tests.ledger.strategies import balanced_postings, partitions

CLEARING = AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP")
SHOP = AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "GBP")
REVENUE = AccountKey(AccountType.PLATFORM_REVENUE, "market:GB", "GBP")
TAX = AccountKey(AccountType.TAX_PAYABLE, "market:GB", "GBP")
CREATOR = AccountKey(AccountType.CREATOR_PAYABLE, "creator:7", "GBP")
REFUNDS = AccountKey(AccountType.REFUNDS_PAYABLE, "provider:sandbox", "GBP")

# A £24.00 order (VAT-inclusive): VAT 4.00, platform 1.20, creator 0.96, seller 17.84.
SALE = [
    Posting(CLEARING, 2400),
    Posting(SHOP, -1784),
    Posting(REVENUE, -120),
    Posting(TAX, -400),
    Posting(CREATOR, -96),
]

DB_PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def row_counts(session: AsyncSession) -> tuple[int, int, int]:
    counts = []
    for model in (LedgerAccount, LedgerTransaction, LedgerPosting):
        counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return counts[0], counts[1], counts[2]


def ref() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_paid_order_and_balances(session: AsyncSession) -> None:
    tx = await ledger.post(
        session, kind="order.paid", reference="order:42:paid", postings=SALE, memo="order 42"
    )
    await session.commit()
    assert tx.id and tx.reference == "order:42:paid" and tx.kind == "order.paid"
    assert Counter(ledger.postings_of(tx)) == Counter(SALE)
    assert await ledger.balance(session, CLEARING) == 2400
    assert await ledger.balance(session, SHOP) == -1784
    assert ledger.owed_to_party(await ledger.balance(session, SHOP)) == 1784
    assert (
        await ledger.balance(session, AccountKey(AccountType.SELLER_PAYABLE, "shop:2", "GBP")) == 0
    )
    assert await ledger.trial_balance(session) == {"GBP": 0}
    assert await ledger.is_balanced(session)
    gb = await ledger.balances(session, party="market:GB")
    assert gb == [(REVENUE, -120), (TAX, -400)]
    assert await ledger.balances(session, type=AccountType.CREATOR_PAYABLE) == [(CREATOR, -96)]
    assert await ledger.balances(session, currency="VND") == []
    assert await ledger.balances(session, parties=[]) == []
    assert len(await ledger.balances(session, parties=["shop:1", "creator:7"])) == 2


async def test_refund_is_exact_pro_rata_reversal_into_refunds_payable(
    session: AsyncSession,
) -> None:
    sale = await ledger.post(session, kind="order.paid", reference="order:9:paid", postings=SALE)
    original = ledger.postings_of(sale)
    for k, name in enumerate(("a", "b", "c")):  # three units refunded one by one
        part = ledger.reversal(original, numerator=1, denominator=3, already_reversed=k)
        part = ledger.retarget(part, {CLEARING: REFUNDS})
        await ledger.post(
            session, kind="order.refund", reference=f"order:9:refund:{name}", postings=part
        )
    assert await ledger.balance(session, REFUNDS) == -2400
    for key in (SHOP, REVENUE, TAX, CREATOR):
        assert await ledger.balance(session, key) == 0
    settle = [Posting(REFUNDS, 2400), Posting(CLEARING, -2400)]  # provider returned the money
    await ledger.post(session, kind="refund.settled", reference="order:9:settled", postings=settle)
    await session.commit()
    assert [b for _, b in await ledger.balances(session)] == [0] * 6
    found = await ledger.transactions_by_reference_prefix(session, "order:9:")
    assert [t.reference for t in found] == [
        "order:9:paid",
        "order:9:refund:a",
        "order:9:refund:b",
        "order:9:refund:c",
        "order:9:settled",
    ]


async def test_reference_prefix_is_literal_and_case_sensitive(session: AsyncSession) -> None:
    pair = [Posting(CLEARING, 1), Posting(SHOP, -1)]
    for reference in ("order:1:paid", "order:10:paid", "ORDER:1:x", "order_1%", "orderX1"):
        await ledger.post(session, kind="t", reference=reference, postings=pair)
    await session.commit()

    async def refs(prefix: str) -> list[str]:
        return [t.reference for t in await ledger.transactions_by_reference_prefix(session, prefix)]

    assert await refs("order:1:") == ["order:1:paid"]
    assert await refs("order:1") == ["order:1:paid", "order:10:paid"]
    assert await refs("order_") == ["order_1%"]
    assert await refs("order_1%") == ["order_1%"]
    assert await refs("ORDER") == ["ORDER:1:x"]
    assert await refs("nothing") == []
    with pytest.raises(ValueError):
        await refs("")


async def test_replay_returns_same_transaction_and_reuse_conflicts(db: Database) -> None:
    async with db.session() as s:
        first = await ledger.post(s, kind="order.paid", reference="order:1:paid", postings=SALE)
        await s.commit()
    async with db.session() as s:
        again = await ledger.post(
            s, kind="order.paid", reference="order:1:paid", postings=list(reversed(SALE))
        )
        assert again.id == first.id
        before = await row_counts(s)
        different = [Posting(CLEARING, 2401), Posting(SHOP, -2401)]
        for kind, postings in (("order.paid", different), ("order.refund", SALE)):
            with pytest.raises(Conflict) as exc:
                await ledger.post(s, kind=kind, reference="order:1:paid", postings=postings)
            assert exc.value.code == "ledger-reference-reused" and exc.value.status == 409
        await s.commit()
        assert await row_counts(s) == before == (5, 1, 5)
        assert await ledger.balance(s, CLEARING) == 2400


async def test_post_never_commits(db: Database) -> None:
    async with db.session() as s:
        await ledger.post(s, kind="order.paid", reference=ref(), postings=SALE)
        assert await ledger.balance(s, CLEARING) == 2400  # flushed: visible in this transaction
        await s.rollback()
    async with db.session() as s:
        assert await row_counts(s) == (0, 0, 0)


BAD_POSTINGS: list[tuple[str, Any, type[Exception]]] = [
    ("unbalanced", [Posting(CLEARING, 100), Posting(SHOP, -99)], UnbalancedTransaction),
    (
        "balanced-across-currencies-only",
        [
            Posting(CLEARING, 100),
            Posting(AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "VND"), -100),
        ],
        UnbalancedTransaction,
    ),
    ("single", [Posting(CLEARING, 100)], InvalidPosting),
    ("empty", [], InvalidPosting),
    ("not-a-posting", [(CLEARING, 100), (SHOP, -100)], InvalidPosting),
]


@pytest.mark.parametrize(
    ("name", "postings", "error"), BAD_POSTINGS, ids=[b[0] for b in BAD_POSTINGS]
)
async def test_invalid_transactions_write_nothing(
    session: AsyncSession, name: str, postings: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await ledger.post(session, kind="t", reference=ref(), postings=postings)
    assert await row_counts(session) == (0, 0, 0)


async def test_bad_amounts_and_names_are_refused_before_the_database(session: AsyncSession) -> None:
    for amount in (100.0, Decimal("100"), True, 0):
        with pytest.raises((TypeError, InvalidPosting)):
            Posting(CLEARING, amount)
    # even a Posting forged past its own check is caught by post()
    forged = Posting(CLEARING, 1)
    object.__setattr__(forged, "amount_minor", 1.0)
    with pytest.raises(TypeError):
        await ledger.post(session, kind="t", reference=ref(), postings=[forged, Posting(SHOP, -1)])
    with pytest.raises(InvalidPosting):
        AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "ZZZ")
    pair = [Posting(CLEARING, 1), Posting(SHOP, -1)]
    for kwargs in (
        {"kind": "", "reference": ref()},
        {"kind": "t", "reference": ""},
        {"kind": "t", "reference": "x" * 201},
        {"kind": "t", "reference": ref(), "meta": {"rate": 0.12}},
        {"kind": "t", "reference": ref(), "meta": {"nested": [{"fee": 1.5}]}},
        {"kind": "t", "reference": ref(), "memo": "m" * 501},
    ):
        with pytest.raises(InvalidPosting):
            await ledger.post(session, postings=pair, **kwargs)
    assert await row_counts(session) == (0, 0, 0)


async def test_ledger_is_append_only(db: Database) -> None:
    async with db.session() as s:
        await ledger.post(s, kind="order.paid", reference="order:5:paid", postings=SALE)
        await s.commit()
    statements = [
        "UPDATE ledger_postings SET amount_minor = amount_minor + 1",
        "UPDATE ledger_transactions SET reference = 'forged'",
        "UPDATE ledger_accounts SET party = 'shop:2'",
    ]
    if db.dialect == "postgresql":  # SQLite keeps DELETE for the test reset (no TRUNCATE)
        statements += ["DELETE FROM ledger_postings", "DELETE FROM ledger_transactions"]
    for sql in statements:
        async with db.session() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(sql))
            await s.rollback()
    async with db.session() as s:
        assert await ledger.balance(s, CLEARING) == 2400
        assert await row_counts(s) == (5, 1, 5)


@DB_PROPERTY
@given(transactions=st.lists(balanced_postings(), min_size=1, max_size=4))
async def test_random_balanced_transactions_keep_the_books(
    session: AsyncSession, transactions: list[list[Posting]]
) -> None:
    keys = {p.account for tx in transactions for p in tx}
    expected = {k: await ledger.balance(session, k) for k in keys}
    for postings in transactions:
        await ledger.post(session, kind="prop", reference=ref(), postings=postings)
        for p in postings:
            expected[p.account] += p.amount_minor
    await session.commit()
    for key in keys:
        assert await ledger.balance(session, key) == expected[key]
    assert all(total == 0 for total in (await ledger.trial_balance(session)).values())
    listed = dict(await ledger.balances(session))
    assert all(listed[k] == expected[k] for k in keys)


@DB_PROPERTY
@given(postings=balanced_postings(), parts=partitions(50))
async def test_partial_reversals_posted_bring_accounts_back(
    session: AsyncSession, postings: list[Posting], parts: list[int]
) -> None:
    keys = {p.account for p in postings}
    before = {k: await ledger.balance(session, k) for k in keys}
    sale = await ledger.post(session, kind="prop.sale", reference=ref(), postings=postings)
    original = ledger.postings_of(sale)
    done = 0
    for n in parts:
        part = ledger.reversal(original, numerator=n, denominator=sum(parts), already_reversed=done)
        if part:
            await ledger.post(session, kind="prop.refund", reference=ref(), postings=part)
        done += n
    await session.commit()
    assert {k: await ledger.balance(session, k) for k in keys} == before
    assert all(total == 0 for total in (await ledger.trial_balance(session)).values())


async def test_concurrent_posts_race_safely(db: Database) -> None:
    """Twelve writers at once: new accounts are created once, a shared reference is written
    once and every writer of it gets that same transaction back."""
    fresh = [
        Posting(AccountKey(AccountType.PAYMENT_CLEARING, "provider:race", "VND"), 50_000),
        Posting(AccountKey(AccountType.SELLER_PAYABLE, "shop:77", "VND"), -45_000),
        Posting(AccountKey(AccountType.PLATFORM_REVENUE, "market:VN", "VND"), -5_000),
    ]

    async def writer(reference: str) -> int:
        async with db.session() as s:
            tx = await ledger.post(s, kind="order.paid", reference=reference, postings=fresh)
            await s.commit()
            return tx.id

    refs = [f"race:{i}" for i in range(6)] + ["race:shared"] * 6
    ids = await asyncio.gather(*(writer(r) for r in refs))
    assert len(set(ids[6:])) == 1
    assert len(set(ids)) == 7
    async with db.session() as s:
        assert await row_counts(s) == (3, 7, 21)
        assert await ledger.balance(s, fresh[1].account) == -45_000 * 7
        assert await ledger.trial_balance(s) == {"VND": 0}
