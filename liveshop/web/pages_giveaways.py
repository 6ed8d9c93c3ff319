"""Giveaways, explained: how the draw works (``/giveaways/fairness``) and each giveaway's
public record (``/giveaways/{id}``: the terms, the seed's fingerprint, the seed once drawn,
every entry's public id), which re-runs the draw in the visitor's own browser."""

from __future__ import annotations

from fastapi import Request, Response

from liveshop.accounts.deps import MaybePrincipal, SessionDep
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id
from liveshop.live.giveaways import service as giveaways
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])


@router.get("/giveaways/fairness")
async def fairness(request: Request, session: SessionDep, principal: MaybePrincipal) -> Response:
    return await render(
        request,
        session,
        principal,
        "giveaways/fairness.html",
        {"title": _("How giveaways are drawn")},
    )


@router.get("/giveaways/{giveaway_id}")
async def record(
    giveaway_id: Id, request: Request, session: SessionDep, principal: MaybePrincipal
) -> Response:
    g = await giveaways.get_giveaway(session, giveaway_id)
    fields = await giveaways.view(session, g)
    mine = (
        await giveaways.my_entry(session, g.id, principal.user_id)
        if principal is not None
        else None
    )
    context = {
        "title": _("Giveaway #%(id)s", id=g.id),
        "g": g,
        "view": fields,
        "entries": await giveaways.published_entries(session, g.id),
        "mine": mine,
    }
    return await render(request, session, principal, "giveaways/record.html", context)
