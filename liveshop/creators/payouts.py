"""Payout statements (creator, agency, shop) built from the ledger, and payouts.

A statement covers ``[period_start, period_end)`` of one party's payable account in one
currency: the ledger's opening balance (which carries a negative balance forward — e.g. a
refund after the last payout), the period's lines, and the closing balance. What is paid out is
the closing balance minus what is still *pending* (orders whose return window is open), never
below zero. Paying is one ledger transaction, reference ``payout:<statement id>``:

    Dr <party>_payable  /  Cr payout_clearing(provider:payouts)

so the next statement starts from what is still owed, netting anything clawed back since.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.money import is_known_currency
from liveshop.creators.models import PartyKind, PayoutStatement, StatementStatus
from liveshop.creators.order_facts import PENDING, accrual_by_order, order_id_of
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import (
    AccountKey,
    Posting,
    Statement,
    agency_party,
    creator_party,
    post,
    provider_party,
    shop_party,
    statement,
)

PAYOUT_PROVIDER = "payouts"


def account_of(kind: PartyKind, party_id: int, currency: str) -> AccountKey:
    if kind is PartyKind.CREATOR:
        return AccountKey(AccountType.CREATOR_PAYABLE, creator_party(party_id), currency)
    if kind is PartyKind.AGENCY:
        return AccountKey(AccountType.AGENCY_PAYABLE, agency_party(party_id), currency)
    return AccountKey(AccountType.SELLER_PAYABLE, shop_party(party_id), currency)


async def pending_owed(
    session: AsyncSession, account: AccountKey, *, until: datetime | None = None
) -> int:
    """What the party is owed on orders still inside delivery + return window."""
    full = await statement(session, account, until=until)
    per_order: dict[int, int] = defaultdict(int)
    for line in full.lines:
        order_id = order_id_of(line.reference)
        if order_id is not None:
            per_order[order_id] -= line.amount_minor
    states = await accrual_by_order(session, list(per_order))
    return sum(
        amount
        for oid, amount in per_order.items()
        if oid not in states or states[oid].state == PENDING
    )


async def create_statement(
    session: AsyncSession,
    *,
    party_kind: PartyKind,
    party_id: int,
    currency: str,
    period_start: datetime,
    period_end: datetime,
) -> PayoutStatement:
    """Compute and store the period's statement. Commits. 409 if that period exists."""
    if period_end <= period_start:
        raise Unprocessable("period_end must be after period_start", code="bad-period")
    if period_end > utcnow():
        raise Unprocessable("a statement covers a period that is over", code="period-not-over")
    cur = currency.upper()
    if not is_known_currency(cur):
        raise Unprocessable(f"unknown currency {currency!r}", code="unknown-currency")
    account = account_of(party_kind, party_id, cur)
    st = await statement(session, account, since=period_start, until=period_end)
    closing = -st.closing_balance_minor
    pending = min(max(0, closing), max(0, await pending_owed(session, account, until=period_end)))
    payout = max(0, closing - pending)
    row = PayoutStatement(
        party_kind=str(party_kind),
        party_id=party_id,
        currency=cur,
        period_start=period_start,
        period_end=period_end,
        opening_owed_minor=-st.opening_balance_minor,
        earned_minor=st.total_credits_minor,
        deducted_minor=st.total_debits_minor,
        closing_owed_minor=closing,
        pending_minor=pending,
        payout_minor=payout,
        status=StatementStatus.OPEN if payout > 0 else StatementStatus.NOTHING_DUE,
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(
            "a statement for this party, currency and period start exists",
            code="statement-exists",
        ) from exc
    return row


async def get_statement(session: AsyncSession, statement_id: int) -> PayoutStatement:
    row = await session.get(PayoutStatement, statement_id, populate_existing=True)
    if row is None:
        raise NotFound(f"statement {statement_id} does not exist", code="statement-not-found")
    return row


async def list_statements(
    session: AsyncSession, party_kind: PartyKind, party_id: int
) -> list[PayoutStatement]:
    rows = await session.scalars(
        select(PayoutStatement)
        .where(PayoutStatement.party_kind == party_kind, PayoutStatement.party_id == party_id)
        .order_by(PayoutStatement.period_start, PayoutStatement.id)
    )
    return list(rows.all())


async def pay_statement(session: AsyncSession, statement_id: int) -> PayoutStatement:
    """Pay the statement's payout: one conditional status change and one ledger transaction,
    committed together (paying twice is a 409, never a second payout)."""
    row = await get_statement(session, statement_id)
    if row.status != StatementStatus.OPEN:
        raise Conflict(f"statement {statement_id} is {row.status}", code="statement-not-open")
    claimed = await session.execute(
        update(PayoutStatement)
        .where(PayoutStatement.id == row.id, PayoutStatement.status == StatementStatus.OPEN)
        .values(status=StatementStatus.PAID, paid_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        await session.rollback()
        raise Conflict(f"statement {statement_id} was paid meanwhile", code="statement-not-open")
    account = account_of(PartyKind(row.party_kind), row.party_id, row.currency)
    await post(
        session,
        kind="payout",
        reference=f"payout:{row.id}",
        postings=[
            Posting(account, row.payout_minor),
            Posting(
                AccountKey(
                    AccountType.PAYOUT_CLEARING, provider_party(PAYOUT_PROVIDER), row.currency
                ),
                -row.payout_minor,
            ),
        ],
        memo=f"Payout of statement {row.id}",
        meta={"statement_id": row.id, "party": account.party},
    )
    await session.commit()
    return await get_statement(session, statement_id)


@dataclass(frozen=True, slots=True)
class OwedLine:
    at: datetime
    reference: str
    kind: str
    memo: str
    amount_minor: int  # + owed to the party, - taken back or paid out
    owed_after_minor: int


async def statement_lines(session: AsyncSession, row: PayoutStatement) -> list[OwedLine]:
    """The period's ledger lines as the party reads them (the ledger is append-only, so these
    are the same lines every time)."""
    account = account_of(PartyKind(row.party_kind), row.party_id, row.currency)
    st: Statement = await statement(session, account, since=row.period_start, until=row.period_end)
    return [
        OwedLine(
            at=ln.created_at,
            reference=ln.reference,
            kind=ln.kind,
            memo=ln.memo,
            amount_minor=-ln.amount_minor,
            owed_after_minor=-ln.balance_minor,
        )
        for ln in st.lines
    ]


def to_csv(row: PayoutStatement, lines: list[OwedLine]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["date", "reference", "kind", "memo", "currency", "amount_minor", "owed_after_minor"]
    )
    for ln in lines:
        w.writerow(
            [
                ln.at.isoformat(),
                ln.reference,
                ln.kind,
                ln.memo,
                row.currency,
                ln.amount_minor,
                ln.owed_after_minor,
            ]
        )
    for label, value in (
        ("opening_owed", row.opening_owed_minor),
        ("earned", row.earned_minor),
        ("deducted", row.deducted_minor),
        ("closing_owed", row.closing_owed_minor),
        ("pending", row.pending_minor),
        ("payout", row.payout_minor),
    ):
        w.writerow(["", "", "total", label, row.currency, value, ""])
    w.writerow(["", "", "status", row.status, row.currency, "", ""])
    return out.getvalue()
