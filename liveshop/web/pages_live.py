"""The viewer's live room.

The page renders the room as the database has it now (host, pinned product with its market
price, the running flash deal, the showcase) so it reads well before any script runs; then
``static/js/room.js`` joins ``/ws/live/{id}`` (the session cookie tells the socket who is
watching) and keeps every region current from the snapshot and the event batches.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from liveshop.accounts.deps import MaybePrincipal, SessionDep
from liveshop.accounts.models import Role
from liveshop.core.errors import NotFound
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line
from liveshop.live import service as live_service
from liveshop.markets.service import get_market
from liveshop.orders import saved_cards
from liveshop.video import simulcast
from liveshop.web import live_view
from liveshop.web.pages_follows import room_follow_state
from liveshop.web.routing import page_router
from liveshop.web.templating import page_language, render, viewer_of

router = page_router(tags=["pages"])


async def _payment(session: SessionDep, buyer_id: Id, session_id: Id) -> dict[str, Any]:
    """The buy sheet's card: the buyer's default saved card (one tap), and where to change
    it (the sheet asks ``cards_api`` again each time it opens)."""
    card = await saved_cards.default_card(session, buyer_id)
    usable = card is not None and not card.expired()
    return {
        "card": {"id": card.id, "label": card.label} if card is not None and usable else None,
        "cards_api": "/api/v1/me/cards",
        "cards_url": f"/account?next={quote(f'/live/{session_id}', safe='')}#payment-methods",
    }


@router.get("/l/{code}")
async def short_link(code: Line, session: SessionDep, principal: MaybePrincipal) -> Response:
    """A show's short link (shared on the other platforms it is simulcast to): the room."""
    session_id = simulcast.session_of_code(code)
    if session_id is None or not await live_service.sessions_by_ids(session, [session_id]):
        raise NotFound(_("No show has this link."), code="short-link-not-found")
    return RedirectResponse(f"/live/{session_id}", status_code=302)


@router.get("/live/{session_id}")
async def live_room(
    session_id: Id, request: Request, session: SessionDep, principal: MaybePrincipal
) -> Response:
    room = await live_view.room(session, session_id)
    await session.commit()  # reading stock may release expired holds
    market = await get_market(session, room.session.market_code)
    viewer = await viewer_of(session, principal)
    user = (
        {"id": viewer.user_id, "name": viewer.name, "can_buy": viewer.has(Role.BUYER)}
        if viewer is not None
        else None
    )
    if user is not None and viewer is not None and user["can_buy"]:
        user |= await _payment(session, viewer.user_id, session_id)
    page_language(request, principal, market)  # the room's prices in the viewer's language
    data = live_view.room_data(room, market, user)
    data["heartbeat_ms"] = int(request.app.state.hub.config.heartbeat_s * 1000)
    context = {
        "title": room.session.title,
        "room": room,
        "room_data": data,
        "room_json": live_view.page_json(data),
        "deal_product": room.deal_product,
        "follow": await room_follow_state(
            session, viewer.user_id if viewer else None, room.session.creator_id, session_id
        ),
    }
    return await render(request, session, principal, "live/room.html", context, market=market)
