"""The seller center's support inbox, a case's page for the shop, and the buyer's view of it.

``/seller/support``: the shop's open (or resolved) cases, oldest open first, each with its
SLA timer — how long until the first-answer target (``helpdesk.service.FIRST_REPLY_HOURS``)
or how far past it. ``/seller/support/{id}``: the case, its order, the messages; reply and
resolve (the buyer is notified of each). Shop staff and admins (``ensure_shop_staff``).
``/support/cases/{id}``: the buyer's own case (and the shop's staff, admins).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response

from liveshop.accounts.deps import CurrentPrincipal, SellerPrincipal, SessionDep
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line, Text
from liveshop.helpdesk import service as helpdesk
from liveshop.helpdesk.models import MESSAGE_MAX, CaseStatus
from liveshop.web.flash import redirect
from liveshop.web.pages_seller import ShopParam, _no_shop, _pick_shop
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])

Body = Annotated[Text, Form(max_length=MESSAGE_MAX)]


def sla_text(state: str, seconds: int) -> tuple[str, str]:
    """('met' | 'due' | 'overdue', '3 h 20 min'): the timer as a person reads it."""
    minutes = max(seconds, 0) // 60
    hours, minutes = divmod(minutes, 60)
    span = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return state, span


@router.get("/seller/support")
async def support_inbox(
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    shop_id: ShopParam = None,
    view: Annotated[Line, Query(max_length=10, pattern=r"^(open|resolved)?$")] = "open",
) -> Response:
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    status = CaseStatus.RESOLVED if view == "resolved" else CaseStatus.OPEN
    now = utcnow()
    cases = await helpdesk.inbox(session, shop.id, status=status)
    context = {
        "title": _("Support"),
        "shop": shop,
        "shops": shops,
        "section": "support",
        "path": "/seller/support",
        "view": status.value,
        "cases": [(c, *sla_text(*c.sla(now))) for c in cases],
        "now": now,  # the timers tick from here (static/js/sla.js)
        "counts": await helpdesk.counts(session, shop.id),
        "target_hours": helpdesk.FIRST_REPLY_HOURS,
    }
    return await render(request, session, principal, "seller/support.html", context)


@router.get("/seller/support/{case_id}")
async def support_case(
    case_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    case = await helpdesk.get_case(session, case_id)
    shop = await ensure_shop_staff(session, principal, case.shop_id)
    d = await helpdesk.detail(session, case)
    context = {
        "title": _("Case #%(id)s", id=case.id),
        "shop": shop,
        "shops": [shop],
        "section": "support",
        "path": "/seller/support",
        "d": d,
        "sla": sla_text(*d.case.sla(utcnow())),
        "now": utcnow(),
        "message_max": MESSAGE_MAX,
    }
    return await render(request, session, principal, "seller/support_case.html", context)


@router.post("/seller/support/{case_id}/reply")
async def reply(
    case_id: Id, session: SessionDep, principal: SellerPrincipal, body: Body
) -> Response:
    await helpdesk.reply(session, principal, case_id, body)
    return redirect(f"/seller/support/{case_id}", flash=("success", _("Reply sent to the buyer.")))


@router.post("/seller/support/{case_id}/resolve")
async def resolve(
    case_id: Id, session: SessionDep, principal: SellerPrincipal, body: Body = ""
) -> Response:
    await helpdesk.resolve(session, principal, case_id, body)
    return redirect(
        f"/seller/support/{case_id}", flash=("success", _("Case resolved; the buyer was told."))
    )


@router.get("/support/cases/{case_id}")
async def my_case(
    case_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """A support case as its buyer sees it (and the shop's staff, admins)."""
    case = await helpdesk.readable_case(session, principal, case_id)
    d = await helpdesk.detail(session, case)
    context = {"title": _("Case #%(id)s", id=case.id), "d": d}
    return await render(request, session, principal, "support_case.html", context)
