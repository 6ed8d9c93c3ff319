"""Chat moderation over HTTP, under the live session it happens in.

``POST /api/v1/live/sessions/{id}/comments/{comment_id}/hide`` (and ``/unhide``),
``GET|POST /api/v1/live/sessions/{id}/mutes``, ``DELETE …/mutes/{user_id}``. The session's
creator, their moderators and admins only (403 ``not-room-host`` otherwise). Room events and
the mute-cache announcement are queued by the services on their transaction and go out with
its commit (``chat.announce``).

The moderation log: ``GET /api/v1/live/moderation-log`` (every session the caller may read,
filtered by session, creator and action, paged), ``GET …/sessions/{id}/moderation-log`` (one
session), ``POST /api/v1/live/moderation-log/{entry_id}/undo`` (unhide a hidden comment, lift
a mute in force). Who sees what: ``chat.moderation_log``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import CurrentPrincipal, SessionDep, per_user
from liveshop.chat import moderation_log, reports, service
from liveshop.chat.models import (
    REASON_MAX,
    ActorRole,
    FilterRule,
    ModerationAction,
    ReportReason,
    ReportStatus,
    ReportSubject,
)
from liveshop.chat.wiring import chat_caches
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.events import EventType
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import MAX_ID, Count, FormCount, Id, Limit, Text
from liveshop.realtime.hub import Hub

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
    user_id: int = Field(gt=0, strict=True, le=MAX_ID)
    duration_minutes: Annotated[Count, Field(ge=1, le=service.MAX_MUTE_MINUTES)] | None = Field(
        description="How long (e.g. 10, 60, 1440); null: until unmuted"
    )
    reason: Text = Field(default="", max_length=REASON_MAX)
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
    ban: bool = Field(default=False, description="A ban (no end) rather than a mute")

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
            ban=m.ban,
        )


class MutedOut(MuteOut):
    hidden_comment_ids: list[int]


async def _set_hidden(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    session_id: Id,
    comment_id: Id,
    *,
    hidden: bool,
) -> CommentOut:
    live = await service.moderated_session(session, principal, session_id)
    room = _hub(request).publisher.on_commit(session)
    done = await service.set_hidden(
        session, live, comment_id, hidden=hidden, actor_id=principal.user_id, room=room
    )
    return CommentOut.of(done.comment, room.last_seq)


@router.post("/sessions/{session_id}/comments/{comment_id}/hide")
async def hide_comment(
    session_id: Id,
    comment_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> CommentOut:
    """Hide a chat line: every viewer's chat drops it (``comment_hidden``); snapshots and
    catch-up replays leave it out. Hiding a hidden line changes nothing."""
    return await _set_hidden(request, session, principal, session_id, comment_id, hidden=True)


@router.post("/sessions/{session_id}/comments/{comment_id}/unhide")
async def unhide_comment(
    session_id: Id,
    comment_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> CommentOut:
    """Show a hidden line again (``comment_shown``: rooms put it back in its place)."""
    return await _set_hidden(request, session, principal, session_id, comment_id, hidden=False)


@router.get("/sessions/{session_id}/mutes")
async def list_mutes(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> list[MuteOut]:
    """Viewers muted in the rooms of this session's creator now, newest first."""
    live = await service.moderated_session(session, principal, session_id)
    return [MuteOut.of(m) for m in await service.active_mutes(session, live.creator_id)]


@router.post("/sessions/{session_id}/mutes", status_code=status.HTTP_201_CREATED)
async def mute_user(
    session_id: Id,
    body: MuteIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> MutedOut:
    """Mute a viewer in every room of this session's creator (their comments are refused
    with an error frame) for ``duration_minutes`` or until unmuted; muting again replaces
    the mute. ``hide_comments`` also hides their comments in this session."""
    live = await service.moderated_session(session, principal, session_id)
    done = await service.mute(
        session,
        live,
        body.user_id,
        actor_id=principal.user_id,
        minutes=body.duration_minutes,
        reason=body.reason,
        hide_comments=body.hide_comments,
        room=_hub(request).publisher.on_commit(session),
        mutes=chat_caches(request.app).mutes,
    )
    return MutedOut(
        **MuteOut.of(done.mute).model_dump(), hidden_comment_ids=done.hidden_comment_ids
    )


@router.delete("/sessions/{session_id}/mutes/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unmute_user(
    session_id: Id,
    user_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """Lift the mute on a viewer in this creator's rooms (404 ``mute-not-found`` if none)."""
    live = await service.moderated_session(session, principal, session_id)
    mutes = chat_caches(request.app).mutes
    await service.unmute(session, live, user_id, actor_id=principal.user_id, mutes=mutes)


# --- bans ------------------------------------------------------------------------------------


class BanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user_id: int = Field(gt=0, strict=True, le=MAX_ID)
    reason: Text = Field(default="", max_length=REASON_MAX)
    hide_comments: bool = Field(
        default=True, description="Also hide their comments in this session"
    )


@router.post("/sessions/{session_id}/bans", status_code=status.HTTP_201_CREATED)
async def ban_user(
    session_id: Id,
    body: BanIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> MutedOut:
    """Ban a viewer from every room of this session's creator until the ban is lifted: their
    comments are refused (``banned`` error frame) on every node, and so are their bids and
    giveaway entries. Replaces a mute; 409 ``already-banned``. Logged as ``ban`` (undo from
    the moderation log)."""
    live = await service.moderated_session(session, principal, session_id)
    done = await service.ban(
        session,
        live,
        body.user_id,
        actor_id=principal.user_id,
        reason=body.reason,
        hide_comments=body.hide_comments,
        room=_hub(request).publisher.on_commit(session),
        mutes=chat_caches(request.app).mutes,
    )
    return MutedOut(
        **MuteOut.of(done.mute).model_dump(), hidden_comment_ids=done.hidden_comment_ids
    )


@router.delete("/sessions/{session_id}/bans/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unban_user(
    session_id: Id,
    user_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """Lift the ban on a viewer in this creator's rooms (404 ``ban-not-found`` if none)."""
    live = await service.moderated_session(session, principal, session_id)
    mutes = chat_caches(request.app).mutes
    await service.unban(session, live, user_id, actor_id=principal.user_id, mutes=mutes)


# --- reports ---------------------------------------------------------------------------------


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment_id: int | None = Field(default=None, gt=0, strict=True, le=MAX_ID)
    user_id: int | None = Field(
        default=None, gt=0, strict=True, le=MAX_ID, description="Report a viewer (no comment)"
    )
    show: bool = Field(default=False, strict=True, description="Report the show itself")
    reason: ReportReason
    note: Text = Field(default="", max_length=REASON_MAX)


class ReportOut(BaseModel):
    id: int
    session_id: int
    reporter: LogUserOut
    target: LogUserOut
    comment_id: int | None
    comment_text: str | None
    comment_hidden: bool | None
    subject: ReportSubject = Field(description="comment, viewer or show (the host is the target)")
    reason: ReportReason
    note: str
    status: ReportStatus
    created_at: datetime

    @classmethod
    def of(cls, r: reports.ReportView) -> ReportOut:
        return cls(
            id=r.id,
            session_id=r.session_id,
            reporter=LogUserOut(user_id=r.reporter_id, display_name=r.reporter_name),
            target=LogUserOut(user_id=r.target_user_id, display_name=r.target_name),
            comment_id=r.comment_id,
            comment_text=r.comment_text,
            comment_hidden=r.comment_hidden,
            subject=r.subject,
            reason=r.reason,
            note=r.note,
            status=r.status,
            created_at=r.created_at,
        )


class ReportedOut(BaseModel):
    """What a reporter is told: that the report is in (never the queue)."""

    id: int
    status: ReportStatus
    new: bool = Field(description="false: the same report was made before")


@router.post(
    "/sessions/{session_id}/reports",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(per_user(Bucket.REPORT))],
    responses=RATE_LIMITED,
)
async def report_in_room(
    session_id: Id,
    body: ReportIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> ReportedOut:
    """Report a comment of this session (its author is reported), a viewer (``user_id``) or
    the show itself (``show``): it joins the queue of the creator's moderators and the
    platform's, and the room's hosts' sockets (the moderator screen) are told at once
    (``reports``, to them only). Anyone signed in; never yourself; 429 ``rate-limited`` past
    ``rate_limit_report`` per reporter."""
    done, new = await reports.report(
        session,
        principal,
        session_id,
        comment_id=body.comment_id,
        user_id=body.user_id,
        reason=body.reason,
        note=body.note,
        show=body.show,
    )
    if new:
        await _hub(request).publisher.publish(session_id, EventType.REPORTS, {"report_id": done.id})
    return ReportedOut(id=done.id, status=done.status, new=new)


@router.get("/sessions/{session_id}/reports")
async def session_reports(
    session_id: Id,
    principal: CurrentPrincipal,
    session: SessionDep,
    status_: Annotated[ReportStatus | None, Query(alias="status")] = ReportStatus.OPEN,
) -> list[ReportOut]:
    """The session's reports (open ones unless ``status`` says otherwise), oldest first: its
    creator, their moderators, admins and platform moderators only."""
    live = await service.moderated_session(session, principal, session_id)
    return [ReportOut.of(r) for r in await reports.queue(session, live, status=status_)]


@router.post("/reports/{report_id}/dismiss")
async def dismiss_report(
    report_id: Id, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> ReportOut:
    """Nothing to do about it: the report leaves the queue (409 ``report-handled``; the
    other moderator screens are told, ``reports``)."""
    done = await reports.dismiss(session, principal, report_id)
    await _hub(request).publisher.publish(
        done.session_id, EventType.REPORTS, {"report_id": done.id}
    )
    return ReportOut.of(done)


# --- the moderation log ---------------------------------------------------------------------


class LogActorOut(BaseModel):
    user_id: int | None = Field(description="null when the account has been deleted")
    display_name: str | None
    role: ActorRole | None = Field(
        description="What they were to the room when they acted: the session's creator, one "
        'of the creator\'s moderators, an admin or a platform moderator; "filter": the '
        "automatic comment filter (no user: see the entry's filter); null: an entry from "
        "before this was recorded whose actor could not be placed"
    )


class LogUserOut(BaseModel):
    user_id: int
    display_name: str | None = Field(description="null when the account has been deleted")


class LogCommentOut(BaseModel):
    id: int
    text: str | None = Field(description="null when the comment no longer exists")
    hidden: bool | None = Field(description="Whether it is hidden now")
    created_at: datetime | None


class LogMuteOut(BaseModel):
    id: int
    reason: str
    created_at: datetime
    expires_at: datetime | None = Field(description="null: until lifted")
    lifted_at: datetime | None
    in_force: bool = Field(description="Not lifted and not run out")


class LogFilterOut(BaseModel):
    rule: FilterRule = Field(
        description="creator_term: a term of the creator's list; platform_term: of the "
        "platform's list; link: a URL, e-mail address or phone number while links are held; "
        "complaint: a complaint about an order, stock or delivery, routed to seller support"
    )
    match: str | None = Field(description="The term as listed, or the link's kind")


class ModerationEntryOut(BaseModel):
    id: int
    created_at: datetime
    action: ModerationAction
    session_id: int
    session_title: str
    creator_id: int
    actor: LogActorOut
    target: LogUserOut | None = Field(description="The viewer it was about (a comment's author)")
    comment: LogCommentOut | None = Field(description="hide and unhide: the comment")
    mute: LogMuteOut | None = Field(
        description="mute: the mute it gave; unmute: the mute it lifted; a hide that came "
        "with a mute: that mute"
    )
    undo: ModerationAction | None = Field(
        description="What POST /api/v1/live/moderation-log/{id}/undo would do now: unhide (a "
        "hide whose comment is still hidden), unmute (a mute still in force) or unban (a ban "
        "still in force); null: nothing"
    )
    filter: LogFilterOut | None = Field(
        default=None,
        description='A hide by the automatic filter (actor role "filter"): why it held the comment',
    )

    @classmethod
    def of(cls, e: moderation_log.EntryView) -> ModerationEntryOut:
        m = e.mute
        return cls(
            id=e.id,
            created_at=e.created_at,
            action=e.action,
            session_id=e.session_id,
            session_title=e.session_title,
            creator_id=e.creator_id,
            actor=LogActorOut(user_id=e.actor_id, display_name=e.actor_name, role=e.actor_role),
            target=LogUserOut(user_id=e.target_user_id, display_name=e.target_name)
            if e.target_user_id is not None
            else None,
            comment=LogCommentOut(
                id=e.comment_id,
                text=e.comment_text,
                hidden=e.comment_hidden,
                created_at=e.comment_at,
            )
            if e.comment_id is not None
            else None,
            mute=LogMuteOut(
                id=m.id,
                reason=m.reason,
                created_at=m.created_at,
                expires_at=m.expires_at,
                lifted_at=m.lifted_at,
                in_force=m.in_force,
            )
            if m is not None
            else None,
            undo=e.undo,
            filter=LogFilterOut(rule=e.filter_rule, match=e.filter_match)
            if e.filter_rule is not None
            else None,
        )


class ModerationLogPage(BaseModel):
    items: list[ModerationEntryOut] = Field(description="Newest first")
    total: int = Field(description="Entries matching the filters")
    limit: int
    offset: int
    counts: dict[ModerationAction, int] = Field(
        description="Entries per action, with every filter applied except the action filter"
    )


LogLimit = Annotated[Limit, Query(le=moderation_log.PAGE_MAX)]
LogOffset = Annotated[FormCount, Query(ge=0, le=1_000_000)]
LogActions = Annotated[
    list[ModerationAction] | None,
    Query(alias="action", description="Only these actions (repeat the parameter for several)"),
]


async def _log_page(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: moderation_log.Filters,
    limit: int,
    offset: int,
) -> ModerationLogPage:
    if filters.session_id is not None:  # 404 unknown, 403 not theirs, as the room's controls
        await moderation_log.readable_session(session, principal, filters.session_id)
    scope = await moderation_log.scope_of(session, principal)
    page = await moderation_log.list_entries(session, scope, filters, limit=limit, offset=offset)
    return ModerationLogPage(
        items=[ModerationEntryOut.of(e) for e in page.entries],
        total=page.total,
        limit=limit,
        offset=offset,
        counts=page.counts,
    )


@router.get("/moderation-log")
async def moderation_log_all(
    principal: CurrentPrincipal,
    session: SessionDep,
    session_id: Annotated[Id | None, Query(description="Only this session")] = None,
    creator_id: Annotated[Id | None, Query(description="Only this creator's")] = None,
    actions: LogActions = None,
    limit: LogLimit = 50,
    offset: LogOffset = 0,
) -> ModerationLogPage:
    """What was moderated in the chats the caller may read, newest first: the sessions of
    creators they are (or moderate for), the sessions they moderate, and — for admins and
    platform moderators — every session. Anyone else: 403 ``not-room-host``."""
    filters = moderation_log.Filters(
        session_id=session_id, creator_id=creator_id, actions=frozenset(actions or ())
    )
    return await _log_page(session, principal, filters, limit, offset)


@router.get("/sessions/{session_id}/moderation-log")
async def moderation_log_of_session(
    session_id: Id,
    principal: CurrentPrincipal,
    session: SessionDep,
    actions: LogActions = None,
    limit: LogLimit = 50,
    offset: LogOffset = 0,
) -> ModerationLogPage:
    """What was moderated in this session's chat, newest first: when, which action, by whom
    and in what capacity, the viewer, the comment and the mute. The session's creator, their
    moderators, admins and platform moderators (403 ``not-room-host`` otherwise)."""
    filters = moderation_log.Filters(session_id=session_id, actions=frozenset(actions or ()))
    return await _log_page(session, principal, filters, limit, offset)


@router.post("/moderation-log/{entry_id}/undo")
async def undo_moderation(
    entry_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> ModerationEntryOut:
    """Undo a hide (the comment is shown again: ``comment_shown``) or a mute (it is lifted),
    as the studio's Unhide and Unmute do; answers with the new ``unhide`` or ``unmute`` entry.
    409 ``cannot-undo`` for an unhide or unmute entry, 409 ``nothing-to-undo`` when the comment
    is no longer hidden or the mute no longer in force; 404 ``moderation-entry-not-found``."""
    done = await moderation_log.undo(
        session,
        principal,
        entry_id,
        room=_hub(request).publisher.on_commit(session),
        mutes=chat_caches(request.app).mutes,
    )
    return ModerationEntryOut.of(await moderation_log.get_entry(session, done.entry_id))
