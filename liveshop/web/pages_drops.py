"""Drops, explained to buyers: how each fairness policy shares a drop's units, and a lottery
drop's public record (the committed seed, its reveal, every entry), which the page checks in
the visitor's own browser."""

from __future__ import annotations

from fastapi import Request, Response

from liveshop.accounts.deps import MaybePrincipal, SessionDep
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id
from liveshop.live.deals import lottery
from liveshop.live.deals import service as deals
from liveshop.live.deals.claims_router import ALGORITHM
from liveshop.live.deals.models import DealPolicy
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])


@router.get("/drops/fairness")
async def fairness(request: Request, session: SessionDep, principal: MaybePrincipal) -> Response:
    return await render(
        request, session, principal, "drops/fairness.html", {"title": _("How drops are shared")}
    )


@router.get("/drops/{deal_id}/lottery")
async def lottery_record(
    deal_id: Id, request: Request, session: SessionDep, principal: MaybePrincipal
) -> Response:
    deal = await deals.get_deal(session, deal_id)
    entries = (
        await lottery.published_entries(session, deal.id)
        if deal.policy == DealPolicy.LOTTERY
        else []
    )
    context = {
        "title": _("Lottery of drop #%(id)s", id=deal.id),
        "deal": deal,
        "is_lottery": deal.policy == DealPolicy.LOTTERY,
        "seed": deal.lottery_seed if deal.drawn_at is not None else None,
        "entries": entries,
        "algorithm": ALGORITHM,
    }
    return await render(request, session, principal, "drops/lottery.html", context)
