"""A statement's lines as the party reads them (+ owed to them, - taken back or paid out), and
the statement as CSV. The lines are re-read from the ledger, which is append-only, so they are
the same every time."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.service import Statement, statement
from liveshop.payouts.models import PayoutStatement


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
