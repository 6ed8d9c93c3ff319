"""Live sessions over HTTP (the room itself is the WebSocket in ``realtime.ws``).

Room events are queued in the service's transaction and go out with its commit (see
``live.announce``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.deps import CreatorPrincipal, CurrentPrincipal, MaybePrincipal, SessionDep
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id, Limit, Offset
from liveshop.live import service
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.live.schemas import (
    MarketCode,
    ModeratorIn,
    ModeratorOut,
    PinIn,
    RoomProductOut,
    SessionDetailOut,
    SessionIn,
    SessionOut,
    SessionPage,
    ShowcaseIn,
)
from liveshop.realtime.hub import Hub
from liveshop.realtime.publish import AfterCommit
from liveshop.realtime.ws import ws_router

http = APIRouter(prefix="/api/v1/live", tags=["live"], responses=PROBLEM_RESPONSES)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(_hub)]


class PinOut(BaseModel):
    pinned: RoomProductOut | None
    seq: int


def _sent(room: AfterCommit) -> int:
    """The seq of the event the service's commit published."""
    seq = room.last_seq
    if seq is None:
        raise RuntimeError("the room event did not go out")
    return seq


async def _detail(session: AsyncSession, live: LiveSession) -> SessionDetailOut:
    showcase = await service.showcase(session, live)
    pinned = next((p for p in showcase if p.product_id == live.pinned_product_id), None)
    return SessionDetailOut(
        **SessionOut.of(live).model_dump(),
        showcase=[RoomProductOut.of(p) for p in showcase],
        pinned=RoomProductOut.of(pinned) if pinned is not None else None,
    )


@http.post("/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(
    body: SessionIn, principal: CreatorPrincipal, session: SessionDep
) -> SessionDetailOut:
    """Schedule a session in a market that is open for sale, with its showcase."""
    live = await service.create_session(
        session,
        creator_id=principal.user_id,
        title=body.title,
        market_code=body.market,
        planned_start=body.planned_start,
        planned_duration_minutes=body.planned_duration_minutes,
        product_ids=body.product_ids,
    )
    return await _detail(session, live)


@http.get("/sessions")
async def list_sessions(
    session: SessionDep,
    _: MaybePrincipal,
    status_: Annotated[SessionStatus | None, Query(alias="status")] = None,
    market: MarketCode | None = None,
    limit: Annotated[Limit, Query(le=200)] = 50,
    offset: Annotated[Offset, Query()] = 0,
) -> SessionPage:
    rows, total = await service.list_sessions(
        session, status=status_, market_code=market, limit=limit, offset=offset
    )
    return SessionPage(
        items=[SessionOut.of(r) for r in rows], total=total, limit=limit, offset=offset
    )


@http.get("/sessions/{session_id}")
async def get_session(session_id: Id, session: SessionDep, _: MaybePrincipal) -> SessionDetailOut:
    live = await service.get_session(session, session_id)
    detail = await _detail(session, live)
    await session.commit()  # reading stock may release expired holds
    return detail


@http.post("/sessions/{session_id}/start")
async def start_session(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep, hub: HubDep
) -> SessionOut:
    """Go live (creator or admin). 409 unless the session is scheduled."""
    live = await service.get_session(session, session_id)
    service.ensure_owner(principal, live)
    room = hub.publisher.on_commit(session)
    live = await service.transition(session, live, SessionStatus.LIVE, room=room)
    return SessionOut.of(live)


@http.post("/sessions/{session_id}/end")
async def end_session(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep, hub: HubDep
) -> SessionOut:
    """End a live session: viewers get ``session_ended``; audience stats become final."""
    live = await service.get_session(session, session_id)
    service.ensure_owner(principal, live)
    room = hub.publisher.on_commit(session)
    live = await service.transition(session, live, SessionStatus.ENDED, room=room)
    await hub.save_stats(live.id, session=session)
    await session.refresh(live)
    return SessionOut.of(live)


@http.post("/sessions/{session_id}/cancel")
async def cancel_session(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep, hub: HubDep
) -> SessionOut:
    """Call off a scheduled session. 409 once it is live (end it instead)."""
    live = await service.get_session(session, session_id)
    service.ensure_owner(principal, live)
    room = hub.publisher.on_commit(session)
    live = await service.transition(session, live, SessionStatus.CANCELLED, room=room)
    return SessionOut.of(live)


@http.put("/sessions/{session_id}/showcase")
async def set_showcase(
    session_id: Id,
    body: ShowcaseIn,
    principal: CreatorPrincipal,
    session: SessionDep,
    hub: HubDep,
) -> SessionDetailOut:
    """Replace the showcase (creator). A pinned product left out is unpinned."""
    live = await service.get_session(session, session_id)
    service.ensure_owner(principal, live)
    room = hub.publisher.on_commit(session)
    await service.set_showcase(session, live, body.product_ids, room=room)
    return await _detail(session, live)


@http.post("/sessions/{session_id}/pin")
async def pin(
    session_id: Id, body: PinIn, principal: CurrentPrincipal, session: SessionDep, hub: HubDep
) -> PinOut:
    """Pin a showcase product (creator or their moderator): every viewer gets a ``pin``."""
    live = await service.get_session(session, session_id)
    await service.ensure_can_control(session, principal, live)
    room = hub.publisher.on_commit(session)
    product = await service.pin_product(session, live, body.product_id, room=room)
    return PinOut(pinned=RoomProductOut.of(product), seq=_sent(room))


@http.post("/sessions/{session_id}/unpin")
async def unpin(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep, hub: HubDep
) -> PinOut:
    live = await service.get_session(session, session_id)
    await service.ensure_can_control(session, principal, live)
    room = hub.publisher.on_commit(session)
    await service.unpin_product(session, live, room=room)
    return PinOut(pinned=None, seq=_sent(room))


@http.get("/moderators")
async def my_moderators(principal: CreatorPrincipal, session: SessionDep) -> list[ModeratorOut]:
    rows = await service.list_moderators(session, principal.user_id)
    return [ModeratorOut.of(r) for r in rows]


@http.post("/moderators", status_code=status.HTTP_201_CREATED)
async def add_moderator(
    body: ModeratorIn, principal: CreatorPrincipal, session: SessionDep
) -> ModeratorOut:
    """Let a user pin products in your rooms (all of them, or one session)."""
    row = await service.add_moderator(
        session, creator_id=principal.user_id, user_id=body.user_id, session_id=body.session_id
    )
    return ModeratorOut.of(row)


@http.delete("/moderators/{moderator_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_moderator(
    moderator_id: Id, principal: CreatorPrincipal, session: SessionDep
) -> None:
    await service.remove_moderator(session, creator_id=principal.user_id, moderator_id=moderator_id)


router = APIRouter()
router.include_router(http)
router.include_router(ws_router)
