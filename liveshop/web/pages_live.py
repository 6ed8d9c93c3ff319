"""The live room page (layout shell) and the creator studio shell.

The room's realtime parts — the HLS player, the chat socket, live pin and flash-deal updates —
are wired to the live-room hub separately; this page renders the server-side state (title,
host, pinned product with its market price) into the regions that script will drive.
"""

from __future__ import annotations

from fastapi import Request, Response

from liveshop.accounts.deps import CreatorPrincipal, MaybePrincipal, SessionDep
from liveshop.accounts.models import Role
from liveshop.markets.service import get_market
from liveshop.web import live_view
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])


@router.get("/live/{session_id}")
async def live_room(
    session_id: int, request: Request, session: SessionDep, principal: MaybePrincipal
) -> Response:
    room = await live_view.room(session, session_id)
    await session.commit()  # reading stock may release expired holds
    market = await get_market(session, room.session.market_code)
    context = {"title": room.session.title, "room": room}
    return await render(request, session, principal, "live/room.html", context, market=market)


@router.get("/studio")
async def studio(request: Request, session: SessionDep, principal: CreatorPrincipal) -> Response:
    """The creator's sessions (an admin who is not a creator sees everyone's)."""
    mine_only = Role.CREATOR in principal.roles or not principal.is_admin
    sessions = await live_view.creator_sessions(session, principal.user_id if mine_only else None)
    context = {"title": "Creator studio", "sessions": sessions, "mine_only": mine_only}
    return await render(request, session, principal, "live/studio.html", context)
