"""Payout statements (creator, agency, shop) built from the ledger, and payouts.

A statement covers ``[period_start, period_end)`` of one party's payable account in one
currency: the ledger's opening balance (which carries a negative balance forward — e.g. a
refund after the last payout), the period's lines, and the closing balance. What is paid out is
the closing balance minus what was still *pending* at ``period_end`` (orders whose return window
had not passed by then), minus earlier statements' payouts the ledger had not deducted by then,
never below zero. Paying is one ledger transaction, reference ``payout:<statement id>``:

    Dr <party>_payable  /  Cr payout_clearing(provider:payouts)

so the next statement starts from what is still owed, netting anything clawed back since.

**Reproducible.** Everything a statement's figures depend on happened before ``period_end``:
the ledger up to it, and each order's status and delivery as its history (``order_events``)
had them then (``order_facts.accrual_as_of``) — never the order's status now. So the statement
of a past period says what that period saw, and computing it again later gives the same
figures; asking again for the same period returns the statement already made.

**Never paid twice.** A party's statements in a currency are a chain (``seq``), each starting
at or after the previous one's end, so periods never overlap; a statement made while an earlier
one is still open (or paid only after this period's end) holds back that payout
(``earlier_payouts_minor``), so a commission in both is paid once.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.money import is_known_currency
from liveshop.creators.models import PayoutStatement, StatementStatus
from liveshop.creators.order_facts import (
    PENDING,
    Accrual,
    accrual_as_of,
    accrual_by_order,
    order_id_of,
)
from liveshop.ledger.models import AccountType
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.service import (
    AccountKey,
    Posting,
    Statement,
    post,
    provider_party,
    statement,
)

PAYOUT_PROVIDER = "payouts"


def _pending_in(full: Statement, states: Mapping[int, Accrual]) -> int:
    """What ``full``'s lines owe on orders that are pending in ``states`` (or unknown)."""
    per_order: dict[int, int] = defaultdict(int)
    for line in full.lines:
        order_id = order_id_of(line.reference)
        if order_id is not None:
            per_order[order_id] -= line.amount_minor
    return sum(
        amount
        for oid, amount in per_order.items()
        if oid not in states or states[oid].state == PENDING
    )


def _order_ids(full: Statement) -> list[int]:
    return sorted({oid for ln in full.lines if (oid := order_id_of(ln.reference)) is not None})


async def pending_owed(
    session: AsyncSession, account: AccountKey, *, until: datetime | None = None
) -> int:
    """What the party is owed on orders still inside delivery + return window: now, or — with
    ``until`` — as things stood at ``until`` (the ledger before it, each order's status and
    delivery as its history had them then)."""
    full = await statement(session, account, until=until)
    ids = _order_ids(full)
    states = (
        await accrual_by_order(session, ids)
        if until is None
        else await accrual_as_of(session, ids, until)
    )
    return _pending_in(full, states)


@dataclass(frozen=True, slots=True)
class Figures:
    """A statement's figures for ``[period_start, period_end)`` (owed to the party > 0)."""

    opening_owed_minor: int
    earned_minor: int
    deducted_minor: int
    closing_owed_minor: int
    pending_minor: int
    earlier_payouts_minor: int
    payout_minor: int


async def statement_figures(
    session: AsyncSession,
    account: AccountKey,
    *,
    period_start: datetime,
    period_end: datetime,
    earlier: Sequence[PayoutStatement] = (),
) -> Figures:
    """The figures of the period's statement, from what happened before ``period_end`` only
    (and the payouts of the party's ``earlier`` statements): the same whenever computed."""
    full = await statement(session, account, until=period_end)
    opening = sum(ln.amount_minor for ln in full.lines if ln.created_at < period_start)
    period = [ln for ln in full.lines if ln.created_at >= period_start]
    closing = -full.closing_balance_minor
    ids = _order_ids(full)
    states = await accrual_as_of(session, ids, period_end)
    pending = min(max(0, closing), max(0, _pending_in(full, states)))
    # Earlier payouts the ledger had not deducted by period_end are still to leave: not again.
    in_ledger = {ln.reference for ln in full.lines}
    outstanding = sum(
        row.payout_minor
        for row in earlier
        if row.status in (StatementStatus.OPEN, StatementStatus.PAID)
        and f"payout:{row.id}" not in in_ledger
    )
    return Figures(
        opening_owed_minor=-opening,
        earned_minor=-sum(ln.amount_minor for ln in period if ln.amount_minor < 0),
        deducted_minor=sum(ln.amount_minor for ln in period if ln.amount_minor > 0),
        closing_owed_minor=closing,
        pending_minor=pending,
        earlier_payouts_minor=outstanding,
        payout_minor=max(0, closing - pending - outstanding),
    )


async def _chain(
    session: AsyncSession, kind: PartyKind, party_id: int, currency: str
) -> list[PayoutStatement]:
    rows = await session.scalars(
        select(PayoutStatement)
        .where(
            PayoutStatement.party_kind == str(kind),
            PayoutStatement.party_id == party_id,
            PayoutStatement.currency == currency,
        )
        .order_by(PayoutStatement.seq)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def make_statement(
    session: AsyncSession,
    *,
    party_kind: PartyKind,
    party_id: int,
    currency: str,
    period_start: datetime,
    period_end: datetime,
) -> tuple[PayoutStatement, bool]:
    """The period's statement and whether it was made now (False: the same period was asked
    for before, and that statement is returned unchanged). Commits.

    409 ``statement-exists`` for another period with the same start, ``statement-overlaps``
    for a period starting before the party's latest statement (in that currency) ends."""
    if period_end <= period_start:
        raise Unprocessable("period_end must be after period_start", code="bad-period")
    if period_end > utcnow():
        raise Unprocessable("a statement covers a period that is over", code="period-not-over")
    cur = currency.upper()
    if not is_known_currency(cur):
        raise Unprocessable(f"unknown currency {currency!r}", code="unknown-currency")
    for attempt in range(2):
        chain = await _chain(session, party_kind, party_id, cur)
        for row in chain:
            if row.period_start == period_start and row.period_end == period_end:
                return row, False
            if row.period_start == period_start:
                raise Conflict(
                    "a statement for this party, currency and period start exists",
                    code="statement-exists",
                    statement_id=row.id,
                )
        latest = chain[-1] if chain else None
        if latest is not None and period_start < latest.period_end:
            raise Conflict(
                "statements of a party follow one another: this period must start at or after "
                f"the end of statement {latest.id} ({latest.period_end.isoformat()})",
                code="statement-overlaps",
                statement_id=latest.id,
                next_period_start=latest.period_end.isoformat(),
            )
        account = payable_account(party_kind, party_id, cur)
        figures = await statement_figures(
            session, account, period_start=period_start, period_end=period_end, earlier=chain
        )
        row = PayoutStatement(
            party_kind=str(party_kind),
            party_id=party_id,
            currency=cur,
            seq=(latest.seq + 1) if latest is not None else 1,
            period_start=period_start,
            period_end=period_end,
            opening_owed_minor=figures.opening_owed_minor,
            earned_minor=figures.earned_minor,
            deducted_minor=figures.deducted_minor,
            closing_owed_minor=figures.closing_owed_minor,
            pending_minor=figures.pending_minor,
            earlier_payouts_minor=figures.earlier_payouts_minor,
            payout_minor=figures.payout_minor,
            status=(StatementStatus.OPEN if figures.payout_minor else StatementStatus.NOTHING_DUE),
        )
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            # Another statement of this party was made meanwhile (the seq or the start is
            # taken): look again — the same period is a replay, any other is refused above.
            await session.rollback()
            if attempt == 0:
                continue
            raise Conflict(
                "another statement of this party was made meanwhile", code="statement-exists"
            ) from None
        return row, True
    raise AssertionError("unreachable")


async def create_statement(
    session: AsyncSession,
    *,
    party_kind: PartyKind,
    party_id: int,
    currency: str,
    period_start: datetime,
    period_end: datetime,
) -> PayoutStatement:
    """Compute and store the period's statement (or return the one already made for exactly
    this period). Commits. 409 for a period that overlaps another of the party's statements."""
    row, _ = await make_statement(
        session,
        party_kind=party_kind,
        party_id=party_id,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
    )
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
    account = payable_account(PartyKind(row.party_kind), row.party_id, row.currency)
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
    account = payable_account(PartyKind(row.party_kind), row.party_id, row.currency)
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
        ("earlier_payouts", row.earlier_payouts_minor),
        ("payout", row.payout_minor),
    ):
        w.writerow(["", "", "total", label, row.currency, value, ""])
    w.writerow(["", "", "status", row.status, row.currency, "", ""])
    return out.getvalue()
