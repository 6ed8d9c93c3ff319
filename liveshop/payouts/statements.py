"""A party's statements in one currency: a chain (``seq`` 1, 2, …) of periods that never
overlap, each made knowing every earlier one's payout. Asking again for a period already
stated returns that statement unchanged; any other period that overlaps the chain is a 409."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop import audit
from liveshop.audit import Action
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext
from liveshop.core.money import is_known_currency
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.payouts.figures import statement_figures
from liveshop.payouts.models import PayoutStatement, StatementStatus


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
    actor_id: int | None = None,
) -> tuple[PayoutStatement, bool]:
    """The period's statement and whether it was made now (False: the same period was asked
    for before, and that statement is returned unchanged). Commits.

    409 ``statement-exists`` for another period with the same start, ``statement-overlaps``
    for a period starting before the party's latest statement (in that currency) ends."""
    if period_end <= period_start:
        raise Unprocessable(gettext("period_end must be after period_start"), code="bad-period")
    if period_end > utcnow():
        raise Unprocessable(
            gettext("a statement covers a period that is over"), code="period-not-over"
        )
    cur = currency.upper()
    if not is_known_currency(cur):
        raise Unprocessable(
            gettext("unknown currency %(currency)s", currency=repr(currency)),
            code="unknown-currency",
        )
    for attempt in range(2):
        chain = await _chain(session, party_kind, party_id, cur)
        for row in chain:
            if row.period_start == period_start and row.period_end == period_end:
                return row, False
            if row.period_start == period_start:
                raise Conflict(
                    gettext("a statement for this party, currency and period start exists"),
                    code="statement-exists",
                    statement_id=row.id,
                )
        latest = chain[-1] if chain else None
        if latest is not None and period_start < latest.period_end:
            raise Conflict(
                gettext(
                    "statements of a party follow one another: this period must start at or after the end of statement %(id)s (%(isoformat)s)",  # noqa: E501
                    id=latest.id,
                    isoformat=latest.period_end.isoformat(),
                ),
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
            await session.flush()
            audit.record(
                session,
                actor_id=actor_id,
                action=Action.PAYOUT_STATEMENT,
                target_type="payout_statement",
                target_id=row.id,
                after={
                    "party": f"{party_kind}:{party_id}",
                    "currency": cur,
                    "period": [period_start.isoformat(), period_end.isoformat()],
                    "payout_minor": row.payout_minor,
                    "status": row.status,
                },
            )
            await session.commit()
        except IntegrityError:
            # Another statement of this party was made meanwhile (the seq or the start is
            # taken): look again — the same period is a replay, any other is refused above.
            await session.rollback()
            if attempt == 0:
                continue
            raise Conflict(
                gettext("another statement of this party was made meanwhile"),
                code="statement-exists",
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
        raise NotFound(
            gettext("statement %(statement_id)s does not exist", statement_id=statement_id),
            code="statement-not-found",
        )
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
