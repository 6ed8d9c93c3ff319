"""Agency and contract pages: an agency's dashboard (its creators, their contracts and shows,
the GMV and the agency's share, its money and payout statements) with invitations to
creators; a creator's contract (terms in force, upcoming changes and their notice, the
version history, invitations to accept or decline, and recent orders with the terms they were
bought under next to today's).

Access as the API: the agency's owner (``require(Role.AGENCY)`` + ownership; admins may
open any agency with ``?agency=``), the creator themself (``CreatorPrincipal``) for their
contract and invitations. Statements are read through ``payouts`` (the same rows the API
serves; their CSV is ``/api/v1/payout-statements/{id}.csv``, which lets the agency's owner in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request, Response

from liveshop.accounts.deps import CreatorPrincipal, SessionDep, require
from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.affiliates import agencies, contracts, invitations
from liveshop.affiliates.invitations import percent
from liveshop.affiliates.models import Agency, CreatorContract
from liveshop.core.clock import utcnow
from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line, Text
from liveshop.creators.affiliate_views import agency_dashboard, recent_terms
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.markets.service import list_markets
from liveshop.payouts.figures import pending_owed
from liveshop.payouts.statements import list_statements
from liveshop.web.flash import redirect
from liveshop.web.pages_affiliates import money_of_currency, parse_percent
from liveshop.web.pages_seller import _names
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])

AgencyPrincipal = Annotated[Principal, Depends(require(Role.AGENCY))]


async def _my_agency(
    session: SessionDep, principal: Principal, agency_id: int | None = None
) -> Agency | None:
    """The agency the caller owns (an admin: the one asked for with ``?agency=``)."""
    if agency_id is not None:
        agency = await agencies.get_agency(session, agency_id)
        if not (principal.is_admin or agency.owner_id == principal.user_id):
            raise Forbidden(_("Only the agency's owner may open it."), code="not-agency-owner")
        return agency
    return await agencies.agency_owned_by(session, principal.user_id)


@dataclass(frozen=True, slots=True)
class MoneyRow:
    currency: str
    earned_minor: int
    owed_minor: int
    pending_minor: int


@router.get("/agency")
async def agency_home(
    request: Request,
    session: SessionDep,
    principal: AgencyPrincipal,
    agency_id: Annotated[Id | None, Query(alias="agency")] = None,
) -> Response:
    agency = await _my_agency(session, principal, agency_id)
    if agency is None:
        empty: dict[str, Any] = {"title": _("Agency"), "agency": None}
        return await render(request, session, principal, "agency/dashboard.html", empty)
    board = await agency_dashboard(session, agency)
    money = [
        MoneyRow(
            m.currency,
            m.earned_minor,
            m.owed_minor,
            await pending_owed(session, payable_account(PartyKind.AGENCY, agency.id, m.currency)),
        )
        for m in board.money
    ]
    sent = await invitations.of_agency(session, agency.id)
    names = await _names(
        session, {m.creator_id for m in board.members} | {i.creator_id for i in sent}
    )
    markets = await list_markets(session)
    context = {
        "title": _("%(agency)s · agency", agency=agency.name),
        "agency": agency,
        "board": board,
        "money_rows": money,
        "statements": await list_statements(session, PartyKind.AGENCY, agency.id),
        "invitations": sent,
        "names": names,
        "money": await money_of_currency(session),
        "percent": percent,
        "currencies": sorted({m.currency for m in markets}),
        "now": utcnow(),
    }
    return await render(request, session, principal, "agency/dashboard.html", context)


@router.post("/agency/invitations")
async def invite_creator(
    session: SessionDep,
    principal: AgencyPrincipal,
    agency_id: Annotated[Id, Form()],
    email: Annotated[Line, Form(min_length=3, max_length=254)],
    share: Annotated[Line, Form(min_length=1, max_length=12)],
    currency: Annotated[Line, Form(pattern=r"^[A-Za-z]{3}$")],
    message: Annotated[Text, Form(max_length=invitations.MESSAGE_MAX)] = "",
) -> Response:
    agency = await _my_agency(session, principal, agency_id)
    assert agency is not None
    sent = await invitations.invite(
        session,
        agency,
        email=email,
        agency_share_bp=parse_percent(share),
        currency=currency,
        message=message,
        invited_by=principal.user_id,
    )
    return redirect(
        _back(principal, agency) + "#invitations",
        flash=(
            "success",
            _(
                "Invitation sent to %(email)s (%(share)s).",
                email=email.strip(),
                share=percent(sent.agency_share_bp),
            ),
        ),
    )


def _back(principal: Principal, agency: Agency) -> str:
    return "/agency" if agency.owner_id == principal.user_id else f"/agency?agency={agency.id}"


@router.post("/agency/invitations/{invitation_id}/withdraw")
async def withdraw_invitation(
    invitation_id: Id, session: SessionDep, principal: AgencyPrincipal
) -> Response:
    invitation = await invitations.get_invitation(session, invitation_id)
    agency = await _my_agency(session, principal, invitation.agency_id)
    assert agency is not None
    await invitations.withdraw(session, invitation, agency=agency)
    return redirect(
        _back(principal, agency) + "#invitations",
        flash=("info", _("The invitation is withdrawn.")),
    )


# -- creator: contract and invitations -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpcomingChange:
    version: CreatorContract
    previous: CreatorContract | None
    days_left: int  # until it applies
    notice_days: int  # between its announcement and the day it applies


def _upcoming(history: list[CreatorContract], now: datetime) -> list[UpcomingChange]:
    out = []
    for i, v in enumerate(history):
        if v.effective_from > now:
            out.append(
                UpcomingChange(
                    version=v,
                    previous=history[i - 1] if i else None,
                    days_left=(v.effective_from - now).days,
                    notice_days=(v.effective_from - v.created_at).days,
                )
            )
    return out


@router.get("/studio/contract")
async def my_contract(
    request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    now = utcnow()
    creator_id = principal.user_id
    history = await contracts.contract_history(session, creator_id)
    current = await contracts.contract_at(session, creator_id, now)
    invited = await invitations.for_creator(session, creator_id)
    agency_names = {
        a: (await agencies.get_agency(session, a)).name
        for a in {i.agency_id for i in invited} | {v.agency_id for v in history if v.agency_id}
    }
    context = {
        "title": _("Your contract"),
        "current": current,
        "history": list(reversed(history)),
        "upcoming": _upcoming(history, now),
        "pending": [i for i in invited if i.status == "pending"],
        "answered": [i for i in invited if i.status != "pending"][:10],
        "agency_names": agency_names,
        "orders": await recent_terms(session, creator_id),
        "money": await money_of_currency(session),
        "percent": percent,
        "now": now,
    }
    return await render(request, session, principal, "live/contract.html", context)


@router.post("/studio/invitations/{invitation_id}/accept")
async def accept_invitation(
    invitation_id: Id, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    invitation = await invitations.get_invitation(session, invitation_id)
    await invitations.accept(session, invitation, creator_id=principal.user_id)
    agency = await agencies.get_agency(session, invitation.agency_id)
    return redirect(
        "/studio/contract",
        flash=(
            "success",
            _(
                "You joined %(agency)s. Its share applies from now on; earlier orders keep "
                "their terms.",
                agency=agency.name,
            ),
        ),
    )


@router.post("/studio/invitations/{invitation_id}/decline")
async def decline_invitation(
    invitation_id: Id, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    invitation = await invitations.get_invitation(session, invitation_id)
    await invitations.decline(session, invitation, creator_id=principal.user_id)
    return redirect("/studio/contract", flash=("info", _("Invitation declined.")))
