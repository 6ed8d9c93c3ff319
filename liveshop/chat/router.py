"""Chat moderation over HTTP, under the live session it happens in.

``POST /api/v1/live/sessions/{id}/comments/{comment_id}/hide`` (and ``/unhide``),
``GET|POST /api/v1/live/sessions/{id}/mutes``, ``DELETE …/mutes/{user_id}``. The session's
creator, their moderators and admins only (403 ``not-room-host`` otherwise). Room events and
the mute-cache announcement go out after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import CurrentPrincipal, SessionDep
from liveshop.chat import service
from liveshop.chat.models import REASON_MAX
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.live.hub import Hub

router = APIRouter(prefix="/api/v1/live", tags=["chat"], responses=PROBLEM_RESPONSES)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


class CommentOut(BaseModel):
    id: int
    session_id: int
    user_id: int
    display_name: str
    text: str
    host: bool
    hidden: bool
    created_at: datetime
    seq: int | None = Field(description="The room event's seq; null when nothing changed")

    @classmethod
    def of(cls, c: service.CommentView, seq: int | None) -> CommentOut:
        return cls(
            id=c.id,
            session_id=c.session_id,
            user_id=c.user_id,
            display_name=c.display_name,
            text=c.text,
            host=c.host,
            hidden=c.hidden,
            created_at=c.created_at,
            seq=seq,
        )


class MuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user_id: int = Field(gt=0)
    duration_minutes: Annotated[int, Field(ge=1, le=service.MAX_MUTE_MINUTES)] | None = Field(
        description="How long (e.g. 10, 60, 1440); null: until unmuted"
    )
    reason: str = Field(default="", max_length=REASON_MAX)
    hide_comments: bool = Field(
        default=False, description="Also hide their comments in this session"
    )


class MuteOut(BaseModel):
    id: int
    creator_id: int
    user_id: int
    display_name: str
    session_id: int | None
    reason: str
    muted_by: int | None
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, m: service.MuteView) -> MuteOut:
        return cls(
            id=m.id,
            creator_id=m.creator_id,
            user_id=m.user_id,
            display_name=m.display_name,
            session_id=m.session_id,
            reason=m.reason,
            muted_by=m.muted_by,
            created_at=m.created_at,
            expires_at=m.expires_at,
        )


class MutedOut(MuteOut):
    hidden_comment_ids: list[int]


async def _set_hidden(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    session_id: int,
    comment_id: int,
    *,
    hidden: bool,
) -> CommentOut:
    live = await service.moderated_session(session, principal, session_id)
    done = await service.set_hidden(
        session, live, comment_id, hidden=hidden, actor_id=principal.user_id
    )
    seq = None
    if done.changed:
        seq = await publish_hidden(_hub(request), done.comment)
    return CommentOut.of(done.comment, seq)


async def publish_hidden(hub: Hub, c: service.CommentView) -> int:
    """The room event for a comment that was just hidden or shown again."""
    if c.hidden:
        return await hub.publisher.comment_hidden(c.session_id, [c.id])
    return await hub.publisher.comment_shown(
        c.session_id,
        comment_id=c.id,
        user_id=c.user_id,
        display_name=c.display_name,
        text=c.text,
        host=c.host,
        at=c.created_at,
    )


@router.post("/sessions/{session_id}/comments/{comment_id}/hide")
async def hide_comment(
    session_id: int,
    comment_id: int,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> CommentOut:
    """Hide a chat line: every viewer's chat drops it (``comment_hidden``); snapshots and
    catch-up replays leave it out. Hiding a hidden line changes nothing."""
    return await _set_hidden(request, session, principal, session_id, comment_id, hidden=True)


@router.post("/sessions/{session_id}/comments/{comment_id}/unhide")
async def unhide_comment(
    session_id: int,
    comment_id: int,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> CommentOut:
    """Show a hidden line again (``comment_shown``: rooms put it back in its place)."""
    return await _set_hidden(request, session, principal, session_id, comment_id, hidden=False)


@router.get("/sessions/{session_id}/mutes")
async def list_mutes(
    session_id: int, principal: CurrentPrincipal, session: SessionDep
) -> list[MuteOut]:
    """Viewers muted in the rooms of this session's creator now, newest first."""
    live = await service.moderated_session(session, principal, session_id)
    return [MuteOut.of(m) for m in await service.active_mutes(session, live.creator_id)]


@router.post("/sessions/{session_id}/mutes", status_code=status.HTTP_201_CREATED)
async def mute_user(
    session_id: int,
    body: MuteIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> MutedOut:
    """Mute a viewer in every room of this session's creator (their comments are refused
    with an error frame) for ``duration_minutes`` or until unmuted; muting again replaces
    the mute. ``hide_comments`` also hides their comments in this session."""
    live = await service.moderated_session(session, principal, session_id)
    creator_id, sid = live.creator_id, live.id
    done = await service.mute(
        session,
        live,
        body.user_id,
        actor_id=principal.user_id,
        minutes=body.duration_minutes,
        reason=body.reason,
        hide_comments=body.hide_comments,
    )
    hub = _hub(request)
    await hub.mutes.changed(creator_id)
    if done.hidden_comment_ids:
        await hub.publisher.comment_hidden(sid, done.hidden_comment_ids)
    return MutedOut(
        **MuteOut.of(done.mute).model_dump(), hidden_comment_ids=done.hidden_comment_ids
    )


@router.delete("/sessions/{session_id}/mutes/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unmute_user(
    session_id: int,
    user_id: int,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """Lift the mute on a viewer in this creator's rooms (404 ``mute-not-found`` if none)."""
    live = await service.moderated_session(session, principal, session_id)
    creator_id = live.creator_id
    await service.unmute(session, live, user_id, actor_id=principal.user_id)
    await _hub(request).mutes.changed(creator_id)
