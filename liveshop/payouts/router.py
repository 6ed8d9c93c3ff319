"""Payout statements over HTTP (creators, agencies, shops).

Who may see what: a creator their own statements (and the owner of the agency that manages
them); an agency's owner the agency's statements; a shop's staff the shop's statements; admins
everything. Only admins create and pay statements.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from liveshop.accounts.deps import AdminPrincipal, CreatorPrincipal, CurrentPrincipal, SessionDep
from liveshop.accounts.service import Principal
from liveshop.affiliates import agencies
from liveshop.affiliates.access import ensure_can_see_creator
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line
from liveshop.ledger.parties import PartyKind
from liveshop.payouts import lines, parties, paying, runs, statements
from liveshop.payouts.models import PayoutStatement
from liveshop.payouts.schemas import (
    HeldOut,
    LedgerEntryOut,
    PartyLedgerOut,
    PayoutRunIn,
    PayoutRunResultOut,
    StatementIn,
    StatementLineOut,
    StatementOut,
)

# Tagged "creators", as before these routes moved here (the OpenAPI operations are unchanged).
router = APIRouter(prefix="/api/v1", tags=["creators"], responses=PROBLEM_RESPONSES)


async def _ensure_party(session: SessionDep, principal: Principal, row: PayoutStatement) -> None:
    if principal.is_admin:
        return
    kind = PartyKind(row.party_kind)
    if kind is PartyKind.CREATOR:
        await ensure_can_see_creator(session, principal, row.party_id)
        return
    if kind is PartyKind.AGENCY:
        agency = await agencies.get_agency(session, row.party_id)
        if agency.owner_id == principal.user_id:
            return
        raise Forbidden(_("only the agency's owner sees its statements"), code="not-agency-owner")
    await ensure_shop_staff(session, principal, row.party_id)


async def _statement_out(session: SessionDep, row: PayoutStatement) -> StatementOut:
    owed = await lines.statement_lines(session, row)
    return StatementOut(
        id=row.id,
        party_kind=row.party_kind,
        party_id=row.party_id,
        currency=row.currency,
        seq=row.seq,
        period_start=row.period_start,
        period_end=row.period_end,
        opening_owed_minor=row.opening_owed_minor,
        earned_minor=row.earned_minor,
        deducted_minor=row.deducted_minor,
        closing_owed_minor=row.closing_owed_minor,
        pending_minor=row.pending_minor,
        earlier_payouts_minor=row.earlier_payouts_minor,
        payout_minor=row.payout_minor,
        status=row.status,
        paid_at=row.paid_at,
        lines=[
            StatementLineOut(
                at=ln.at,
                reference=ln.reference,
                kind=ln.kind,
                memo=ln.memo,
                amount_minor=ln.amount_minor,
                owed_after_minor=ln.owed_after_minor,
            )
            for ln in owed
        ],
    )


@router.post(
    "/payout-statements",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "this period's statement was made before: it, unchanged"}},
)
async def create_statement(
    body: StatementIn, principal: AdminPrincipal, session: SessionDep, response: Response
) -> StatementOut:
    """The period's statement for a creator, agency or shop, built from the ledger as it
    stood at ``period_end`` (reproducible). Asking again for the same period returns the same
    statement (200); a period that overlaps or precedes the party's latest statement is 409."""
    row, made = await statements.make_statement(
        session,
        party_kind=body.party_kind,
        party_id=body.party_id,
        currency=body.currency,
        period_start=body.period_start,
        period_end=body.period_end,
        actor_id=principal.user_id,
    )
    if not made:
        response.status_code = status.HTTP_200_OK
    return await _statement_out(session, row)


@router.post("/payout-statements/{statement_id}/pay")
async def pay_statement(
    statement_id: Id, principal: AdminPrincipal, session: SessionDep
) -> StatementOut:
    """Pay it out: Dr the party's payable / Cr payout_clearing (once)."""
    row = await paying.pay_statement(session, statement_id, actor_id=principal.user_id)
    return await _statement_out(session, row)


@router.get("/payout-statements/{statement_id}.csv", response_class=Response)
async def statement_csv(
    statement_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    row = await statements.get_statement(session, statement_id)
    await _ensure_party(session, principal, row)
    owed = await lines.statement_lines(session, row)
    return Response(
        lines.to_csv(row, owed),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statement-{row.id}.csv"'},
    )


@router.get("/payout-statements/{statement_id}")
async def get_statement(
    statement_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> StatementOut:
    row = await statements.get_statement(session, statement_id)
    await _ensure_party(session, principal, row)
    return await _statement_out(session, row)


@router.get("/creators/me/statements")
async def my_statements(principal: CreatorPrincipal, session: SessionDep) -> list[StatementOut]:
    rows = await statements.list_statements(session, PartyKind.CREATOR, principal.user_id)
    return [await _statement_out(session, r) for r in rows]


@router.get("/me/statements")
async def statements_of_mine(
    principal: CurrentPrincipal, session: SessionDep
) -> list[StatementOut]:
    """Every statement of every party you are (your creator account, the shops you staff,
    the agencies you own), newest period first."""
    mine = await parties.parties_of(session, principal)
    rows = await parties.statements_of(session, mine)
    return [await _statement_out(session, r) for r in rows]


@router.get("/me/ledger")
async def ledger_of_mine(
    principal: CurrentPrincipal,
    session: SessionDep,
    party: Annotated[
        Line, Query(max_length=40, description="creator:<id>, shop:<id>, agency:<id>")
    ],
    currency: Annotated[Line, Query(min_length=3, max_length=3)],
) -> PartyLedgerOut:
    """One of your parties' payable account: every entry with its reason, and what is held
    (why, and the date it becomes payable). Another party's ledger is a 403."""
    who = parties.Party.parse(party)
    await parties.ensure_may_read(session, principal, who)
    view = await parties.ledger_view(session, who, currency.upper())
    return PartyLedgerOut(
        party=who.key,
        currency=view.currency,
        owed_minor=view.owed_minor,
        held_minor=view.held_minor,
        payable_now_minor=view.payable_now_minor,
        entries=[LedgerEntryOut.model_validate(e, from_attributes=True) for e in view.entries],
        held=[HeldOut.model_validate(h, from_attributes=True) for h in view.held],
    )


@router.post("/payout-runs")
async def payout_run(
    body: PayoutRunIn, principal: AdminPrincipal, session: SessionDep
) -> list[PayoutRunResultOut]:
    """Every payable party's next statement up to ``until`` (and its payout if ``pay``)."""
    if body.until > utcnow():
        raise Unprocessable(_("a run covers a period that is over"), code="period-not-over")
    results = await runs.run_payouts(
        session, until=body.until, pay=body.pay, actor_id=principal.user_id
    )
    return [
        PayoutRunResultOut(
            party_kind=str(r.party_kind),
            party_id=r.party_id,
            currency=r.currency,
            statement_id=r.statement.id if r.statement else None,
            made=r.made,
            paid=r.paid,
            payout_minor=r.statement.payout_minor if r.statement else None,
            status=r.statement.status if r.statement else None,
            error=r.error,
        )
        for r in results
    ]
