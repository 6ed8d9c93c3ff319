"""The viewer's live room.

The page renders the room as the database has it now (host, pinned product with its market
price, the running flash deal, the showcase) so it reads well before any script runs; then
``static/js/room.js`` joins ``/ws/live/{id}`` (the session cookie tells the socket who is
watching) and keeps every region current from the snapshot and the event batches.
"""

from __future__ import annotations

from fastapi import Request, Response

from liveshop.accounts.deps import MaybePrincipal, SessionDep
from liveshop.accounts.models import Role
from liveshop.markets.service import get_market
from liveshop.web import live_view
from liveshop.web.routing import page_router
from liveshop.web.templating import render, viewer_of

router = page_router(tags=["pages"])


@router.get("/live/{session_id}")
async def live_room(
    session_id: int, request: Request, session: SessionDep, principal: MaybePrincipal
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
    data = live_view.room_data(room, market, user)
    context = {
        "title": room.session.title,
        "room": room,
        "room_data": data,
        "room_json": live_view.page_json(data),
        "deal_product": room.deal_product,
    }
    return await render(request, session, principal, "live/room.html", context, market=market)
