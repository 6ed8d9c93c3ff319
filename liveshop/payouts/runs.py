"""A payout run (admins): every creator, agency and shop with a payable account gets its next
statement, up to one moment, and — if asked — each statement with something due is paid.

Each party's statement starts where its latest one ended (its first one at the start of the
UTC day of the party's first ledger entry),
so a run never overlaps an earlier one and running the same moment again changes nothing (the
same period returns the statement already made). Every statement and payout commits on its
own (``statements.make_statement``, ``paying.pay_statement``): a party whose statement is
refused (say, one made meanwhile) is reported and the run goes on with the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Problem
from liveshop.ledger.models import AccountType, LedgerAccount, LedgerPosting, LedgerTransaction
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.queries import key_filter
from liveshop.payouts import paying, statements
from liveshop.payouts.models import PayoutStatement, StatementStatus

_KINDS = {
    str(AccountType.CREATOR_PAYABLE): PartyKind.CREATOR,
    str(AccountType.AGENCY_PAYABLE): PartyKind.AGENCY,
    str(AccountType.SELLER_PAYABLE): PartyKind.SHOP,
}


@dataclass(frozen=True, slots=True)
class RunResult:
    party_kind: PartyKind
    party_id: int
    currency: str
    statement: PayoutStatement | None
    made: bool  # a new statement (False: this period's was made before, or none)
    paid: bool  # paid by this run
    error: str = ""


async def _payable_accounts(session: AsyncSession) -> list[tuple[PartyKind, int, str]]:
    rows = await session.execute(
        select(LedgerAccount.type, LedgerAccount.party, LedgerAccount.currency)
        .where(LedgerAccount.type.in_(list(_KINDS)))
        .order_by(LedgerAccount.type, LedgerAccount.party, LedgerAccount.currency)
    )
    out = []
    for type_, party, currency in rows.all():
        _kind, _sep, ident = str(party).partition(":")
        if ident.isdecimal():
            out.append((_KINDS[str(type_)], int(ident), str(currency)))
    return out


async def _period_start(
    session: AsyncSession, kind: PartyKind, party_id: int, cur: str
) -> datetime:
    latest = await session.scalar(
        select(PayoutStatement.period_end)
        .where(
            PayoutStatement.party_kind == str(kind),
            PayoutStatement.party_id == party_id,
            PayoutStatement.currency == cur,
        )
        .order_by(PayoutStatement.seq.desc())
        .limit(1)
    )
    if latest is not None:
        return latest
    first = await session.scalar(
        select(func.min(LedgerTransaction.created_at))
        .select_from(LedgerPosting)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(key_filter([payable_account(kind, party_id, cur)]))
    )
    when = first if first is not None else utcnow()
    return datetime.combine(when.astimezone(UTC).date(), time(0), tzinfo=UTC)


async def run_payouts(
    session: AsyncSession, *, until: datetime, pay: bool, actor_id: int | None
) -> list[RunResult]:
    """Every payable party's next statement up to ``until`` (and its payout if ``pay``)."""
    out: list[RunResult] = []
    for kind, party_id, cur in await _payable_accounts(session):
        start = await _period_start(session, kind, party_id, cur)
        if start >= until:
            out.append(RunResult(kind, party_id, cur, None, made=False, paid=False))
            continue
        try:
            row, made = await statements.make_statement(
                session,
                party_kind=kind,
                party_id=party_id,
                currency=cur,
                period_start=start,
                period_end=until,
                actor_id=actor_id,
            )
            paid = False
            if pay and row.status == StatementStatus.OPEN:
                row = await paying.pay_statement(session, row.id, actor_id=actor_id)
                paid = True
        except Problem as exc:
            await session.rollback()
            out.append(RunResult(kind, party_id, cur, None, False, False, error=exc.detail))
            continue
        out.append(RunResult(kind, party_id, cur, row, made=made, paid=paid))
    return out


async def recent_statements(session: AsyncSession, limit: int = 200) -> list[PayoutStatement]:
    rows = await session.scalars(
        select(PayoutStatement)
        .order_by(PayoutStatement.created_at.desc(), PayoutStatement.id.desc())
        .limit(limit)
    )
    return list(rows.all())
