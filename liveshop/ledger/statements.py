"""Account statements: opening balance, dated lines with a running balance, closing balance.

The window is half-open, ``since <= created_at < until``, so consecutive periods
(``[a, b)``, ``[b, c)``) cover every line exactly once and one period's closing balance is the
next one's opening balance. Lines are ordered by (created_at, transaction id, posting id).
Amounts keep the ledger's sign convention (debit > 0, credit < 0); ``owed_to_party`` reads a
payable's balance the way its party does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.ledger.entries import AccountKey, natural_balance
from liveshop.ledger.models import LedgerPosting, LedgerTransaction, Side
from liveshop.ledger.queries import account_id, sum_as_int, sum_postings


@dataclass(frozen=True, slots=True)
class StatementLine:
    transaction_id: int
    reference: str
    kind: str
    memo: str
    created_at: datetime
    amount_minor: int  # this posting: debit > 0, credit < 0
    balance_minor: int  # running balance after this line (debit-positive)


@dataclass(frozen=True, slots=True)
class Statement:
    account: AccountKey
    since: datetime | None
    until: datetime | None
    opening_balance_minor: int  # everything before ``since`` (debit-positive)
    lines: tuple[StatementLine, ...]
    closing_balance_minor: int  # opening + every line

    @property
    def total_debits_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.amount_minor > 0)

    @property
    def total_credits_minor(self) -> int:
        """Credits as a positive number."""
        return -sum(line.amount_minor for line in self.lines if line.amount_minor < 0)

    @property
    def normal_side(self) -> Side:
        return self.account.type.normal_side

    @property
    def closing_normal_minor(self) -> int:
        """Closing balance read on the account's normal side (a payable: what is owed)."""
        return natural_balance(self.account.type, self.closing_balance_minor)


def _check_window(since: datetime | None, until: datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if since is not None and until is not None and since > until:
        raise ValueError("since must not be after until")


async def statement(
    session: AsyncSession,
    account: AccountKey,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Statement:
    """The account's lines in ``[since, until)`` between its opening and closing balances.

    An account never posted to has an empty statement with zero balances.
    """
    _check_window(since, until)
    acc_id = await account_id(session, account)
    if acc_id is None:
        return Statement(account, since, until, 0, (), 0)

    opening = 0
    if since is not None:
        opening = sum_as_int(
            await session.scalar(
                select(sum_postings())
                .select_from(LedgerPosting)
                .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
                .where(LedgerPosting.account_id == acc_id, LedgerTransaction.created_at < since)
            )
        )

    stmt = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.reference,
            LedgerTransaction.kind,
            LedgerTransaction.memo,
            LedgerTransaction.created_at,
            LedgerPosting.amount_minor,
        )
        .select_from(LedgerPosting)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(LedgerPosting.account_id == acc_id)
        .order_by(LedgerTransaction.created_at, LedgerTransaction.id, LedgerPosting.id)
    )
    if since is not None:
        stmt = stmt.where(LedgerTransaction.created_at >= since)
    if until is not None:
        stmt = stmt.where(LedgerTransaction.created_at < until)

    running = opening
    lines: list[StatementLine] = []
    for tx_id, reference, kind, memo, created_at, amount in (await session.execute(stmt)).all():
        running += sum_as_int(amount)
        lines.append(StatementLine(tx_id, reference, kind, memo, created_at, amount, running))
    return Statement(account, since, until, opening, tuple(lines), running)
