"""The user's inbox (``/inbox``): what happened to their orders and returns."""

from __future__ import annotations

from fastapi import Request, Response

from liveshop.accounts.deps import CurrentPrincipal, SessionDep
from liveshop.core.i18n import gettext as _
from liveshop.notices import service as notices
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])


@router.get("/inbox")
async def inbox_page(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    items = await notices.inbox(session, principal.user_id)
    context = {
        "title": _("Inbox"),
        "notices": items,
        "unread": sum(1 for n in items if n.read_at is None),
    }
    return await render(request, session, principal, "inbox.html", context)


@router.post("/inbox/read")
async def mark_read(session: SessionDep, principal: CurrentPrincipal) -> Response:
    await notices.mark_all_read(session, principal.user_id)
    return redirect("/inbox")
