"""Money you can audit: payout statements and ledgers for whoever the signed-in user is — a
creator, a shop's staff, an agency's owner — and the admins' payout runs.

Stable URLs other pages link to: ``/statements`` (every statement of every party the user
is), ``/statements/{id}``, ``/statements/{id}.csv`` (the same CSV as the API) and ``/ledger``
(``?party=shop:3&currency=GBP`` to pick one of the user's parties; each line with its reason,
and what is held with why and until when). Admins: ``/admin/payouts`` (run, results, pay).
The same services and access rules as the API (``payouts.parties``, ``payouts.lines``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Form, Query, Request, Response

from liveshop.accounts.deps import AdminPrincipal, CurrentPrincipal, SessionDep
from liveshop.affiliates import agencies
from liveshop.catalog.service import get_shop
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import get_locale
from liveshop.core.i18n import gettext as _
from liveshop.core.money import format_minor
from liveshop.core.types import Id, Line
from liveshop.ledger.parties import PartyKind
from liveshop.payouts import lines, paying, runs, statements
from liveshop.payouts.models import PayoutStatement
from liveshop.payouts.parties import (
    Party,
    ensure_may_read,
    ledger_view,
    parties_of,
    reason_of,
)
from liveshop.payouts.parties import currencies_of as party_currencies
from liveshop.payouts.parties import statements_of as party_statements
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])


def cash(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return "–"
    try:
        return format_minor(amount_minor, currency, get_locale().replace("-", "_"))
    except ValueError:
        return format_minor(amount_minor, currency, "en")


async def party_name(session: SessionDep, party: Party) -> str:
    try:
        if party.kind is PartyKind.SHOP:
            return _("Shop: %(name)s", name=(await get_shop(session, party.id)).name)
        if party.kind is PartyKind.AGENCY:
            return _("Agency: %(name)s", name=(await agencies.get_agency(session, party.id)).name)
    except NotFound:
        pass
    if party.kind is PartyKind.CREATOR:
        return _("Creator earnings")
    return party.key


def _party_of(row: PayoutStatement) -> Party:
    return Party(PartyKind(row.party_kind), row.party_id)


async def _readable(session: SessionDep, principal: CurrentPrincipal, sid: int) -> PayoutStatement:
    row = await statements.get_statement(session, sid)
    await ensure_may_read(session, principal, _party_of(row))
    return row


@router.get("/statements")
async def statement_list(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Every statement of every party the user is (creator, shops, agencies), newest first."""
    parties = await parties_of(session, principal)
    rows = await party_statements(session, parties)
    names = {p.key: await party_name(session, p) for p in parties}
    context = {
        "title": _("Payout statements"),
        "parties": parties,
        "names": names,
        "rows": rows,
        "cash": cash,
    }
    return await render(request, session, principal, "money/statements.html", context)


@router.get("/statements/{statement_id}.csv", response_class=Response)
async def statement_csv(
    statement_id: Id, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    row = await _readable(session, principal, statement_id)
    owed = await lines.statement_lines(session, row)
    return Response(
        lines.to_csv(row, owed),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statement-{row.id}.csv"'},
    )


@router.get("/statements/{statement_id}")
async def statement_page(
    statement_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    row = await _readable(session, principal, statement_id)
    party = _party_of(row)
    owed = await lines.statement_lines(session, row)
    context = {
        "title": _("Statement %(seq)s", seq=row.seq),
        "s": row,
        "party": party,
        "party_name": await party_name(session, party),
        "lines": [(ln, reason_of(ln.kind, ln.reference)) for ln in owed],
        "cash": cash,
    }
    return await render(request, session, principal, "money/statement.html", context)


@router.get("/ledger")
async def ledger_page(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    party: Annotated[Line | None, Query(max_length=40)] = None,
    currency: Annotated[Line | None, Query(max_length=3)] = None,
) -> Response:
    """One of the user's parties' ledger in one currency: every line with its reason, what is
    held (why, and the date it becomes payable) and what is payable now."""
    mine = await parties_of(session, principal)
    if party:
        chosen = Party.parse(party)
        await ensure_may_read(session, principal, chosen)
    elif mine:
        chosen = mine[0]
    else:
        empty: dict[str, Any] = {"title": _("Your ledger"), "view": None, "parties": []}
        return await render(request, session, principal, "money/ledger.html", empty)
    have = await party_currencies(session, chosen)
    cur = (currency or "").upper() or (have[0] if have else "")
    if cur and cur not in have:
        raise NotFound(_("no ledger in that currency"), code="currency-not-found")
    view = await ledger_view(session, chosen, cur) if cur else None
    names = {p.key: await party_name(session, p) for p in [*mine, chosen]}
    context: dict[str, Any] = {
        "title": _("Your ledger"),
        "view": view,
        "party": chosen,
        "parties": mine if chosen in mine else [*mine, chosen],
        "names": names,
        "currencies": have,
        "currency": cur,
        "cash": cash,
        "now": utcnow(),
    }
    return await render(request, session, principal, "money/ledger.html", context)


# -- admins: payout runs ---------------------------------------------------------------------


@router.get("/admin/payouts")
async def payout_runs(request: Request, session: SessionDep, principal: AdminPrincipal) -> Response:
    recent = await runs.recent_statements(session)
    context = {
        "title": _("Payouts"),
        "section": "payouts",
        "rows": recent,
        "default_until": utcnow().date().isoformat(),
        "cash": cash,
    }
    return await render(request, session, principal, "admin/payouts.html", context)


@router.post("/admin/payouts/run")
async def payout_run(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    until: Annotated[Line, Form(min_length=10, max_length=10)],
    pay: Annotated[bool, Form()] = False,
) -> Response:
    """Statements up to the end of ``until`` (a UTC date; today: up to now) for every payable
    party, and their payouts if ``pay``; the results are shown at once."""
    try:
        day = datetime.strptime(until, "%Y-%m-%d").date()
    except ValueError as exc:
        raise Unprocessable(_("give the run's last day as a date"), code="bad-date") from exc
    now = utcnow().replace(microsecond=0)
    if day > now.date():
        raise Unprocessable(
            _("a run covers time that is over: pick today or earlier"), code="period-not-over"
        )
    end = min(datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC), now)
    results = await runs.run_payouts(session, until=end, pay=pay, actor_id=principal.user_id)
    context = {
        "title": _("Payout run"),
        "section": "payouts",
        "results": results,
        "until": end,
        "rows": await runs.recent_statements(session),
        "default_until": day.isoformat(),
        "cash": cash,
    }
    return await render(request, session, principal, "admin/payouts.html", context)


@router.post("/admin/payouts/{statement_id}/pay")
async def payout_pay(statement_id: Id, session: SessionDep, principal: AdminPrincipal) -> Response:
    row = await paying.pay_statement(session, statement_id, actor_id=principal.user_id)
    return redirect(
        "/admin/payouts",
        flash=(
            "success",
            _(
                "Statement %(id)s paid: %(amount)s.",
                id=row.id,
                amount=cash(row.payout_minor, row.currency),
            ),
        ),
    )
