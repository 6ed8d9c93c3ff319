"""Statements: opening balance + lines with a running balance = closing balance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.ledger import service as ledger
from liveshop.ledger.entries import AccountKey, Posting
from liveshop.ledger.models import AccountType, Side

CLEARING = AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP")
SHOP = AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "GBP")
PAYOUT = AccountKey(AccountType.PAYOUT_CLEARING, "provider:sandbox", "GBP")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


async def post_at(
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    when: datetime,
    reference: str,
    postings: list[Posting],
) -> None:
    monkeypatch.setattr("liveshop.ledger.service.utcnow", lambda: when)
    await ledger.post(session, kind=reference.split(":")[0], reference=reference, postings=postings)


async def test_statement_windows_chain(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = timedelta(days=1)
    await post_at(
        session,
        monkeypatch,
        T0,
        "sale:1",
        [Posting(CLEARING, 800), Posting(SHOP, -900), Posting(SHOP, 100)],  # two legs on SHOP
    )
    await post_at(
        session, monkeypatch, T0 + day, "sale:2", [Posting(CLEARING, 500), Posting(SHOP, -500)]
    )
    await post_at(
        session,
        monkeypatch,
        T0 + 2 * day,
        "payout:1",
        [Posting(SHOP, 1000), Posting(PAYOUT, -1000)],
    )
    await post_at(
        session, monkeypatch, T0 + 3 * day, "sale:3", [Posting(CLEARING, 300), Posting(SHOP, -300)]
    )
    await session.commit()

    whole = await ledger.statement(session, SHOP)
    assert whole.opening_balance_minor == 0
    assert [(line.reference, line.amount_minor, line.balance_minor) for line in whole.lines] == [
        ("sale:1", -900, -900),
        ("sale:1", 100, -800),
        ("sale:2", -500, -1300),
        ("payout:1", 1000, -300),
        ("sale:3", -300, -600),
    ]
    assert whole.closing_balance_minor == await ledger.balance(session, SHOP) == -600
    assert (whole.total_debits_minor, whole.total_credits_minor) == (1100, 1700)
    assert whole.normal_side == Side.CREDIT and whole.closing_normal_minor == 600

    # [T0+1d, T0+3d): includes sale:2 and the payout; sale:3 at exactly T0+3d is next period's
    period = await ledger.statement(session, SHOP, since=T0 + day, until=T0 + 3 * day)
    assert period.opening_balance_minor == -800
    assert [line.reference for line in period.lines] == ["sale:2", "payout:1"]
    assert period.closing_balance_minor == -300
    after = await ledger.statement(session, SHOP, since=T0 + 3 * day)
    assert after.opening_balance_minor == period.closing_balance_minor
    assert after.closing_balance_minor == whole.closing_balance_minor
    assert all(line.created_at.tzinfo is not None for line in whole.lines)


async def test_statement_of_unused_account_and_bad_windows(session: AsyncSession) -> None:
    empty = await ledger.statement(
        session, AccountKey(AccountType.CREATOR_PAYABLE, "creator:9", "VND")
    )
    assert (empty.opening_balance_minor, empty.lines, empty.closing_balance_minor) == (0, (), 0)
    with pytest.raises(ValueError):
        await ledger.statement(session, SHOP, since=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        await ledger.statement(session, SHOP, since=T0, until=T0 - timedelta(seconds=1))
