"""A statement's figures, from what happened before ``period_end`` only: the ledger up to it,
each order's status and delivery as its history had them then, and the party's earlier
statements. So the same period's figures are the same whenever they are computed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.creators.order_facts import (
    PENDING,
    Accrual,
    accrual_as_of,
    accrual_by_order,
    order_id_of,
)
from liveshop.ledger.service import AccountKey, Statement, statement
from liveshop.payouts.models import PayoutStatement, StatementStatus


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
