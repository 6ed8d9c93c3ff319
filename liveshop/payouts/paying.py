"""Paying a statement: one conditional status change (open → paid) and one ledger transaction,
committed together, so a statement is paid at most once::

    Dr <party>_payable  /  Cr payout_clearing(provider:payouts)    reference payout:<id>

and the party's next statement starts from what is still owed, netting anything clawed back."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop import audit
from liveshop.audit import Action
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.ledger.models import AccountType
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.service import AccountKey, Posting, post, provider_party
from liveshop.payouts.models import PayoutStatement, StatementStatus
from liveshop.payouts.statements import get_statement

PAYOUT_PROVIDER = "payouts"


async def pay_statement(
    session: AsyncSession, statement_id: int, *, actor_id: int | None = None
) -> PayoutStatement:
    """Pay the statement's payout: one conditional status change and one ledger transaction,
    committed together (paying twice is a 409, never a second payout)."""
    row = await get_statement(session, statement_id)
    if row.status != StatementStatus.OPEN:
        raise Conflict(
            _(
                "statement %(statement_id)s is %(status)s",
                statement_id=statement_id,
                status=row.status,
            ),
            code="statement-not-open",
        )
    claimed = await session.execute(
        update(PayoutStatement)
        .where(PayoutStatement.id == row.id, PayoutStatement.status == StatementStatus.OPEN)
        .values(status=StatementStatus.PAID, paid_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        await session.rollback()
        raise Conflict(
            _("statement %(statement_id)s was paid meanwhile", statement_id=statement_id),
            code="statement-not-open",
        )
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
    audit.record(
        session,
        actor_id=actor_id,
        action=Action.PAYOUT_PAID,
        target_type="payout_statement",
        target_id=row.id,
        before={"status": str(StatementStatus.OPEN)},
        after={
            "status": str(StatementStatus.PAID),
            "party": account.party,
            "payout_minor": row.payout_minor,
            "currency": row.currency,
        },
    )
    await session.commit()
    return await get_statement(session, statement_id)
