"""Chat moderation: hide and show comments, mute and unmute viewers, list who is muted.

Who may: the session's creator, their moderators (the live domain's ``ensure_can_control``,
the same check as pins and flash deals), admins, and the platform's chat moderators. A mute
is the creator's: it holds in every room of theirs until it runs out or is lifted, whichever
session it was given in.

Every function that changes something is one transaction and commits. Given the room's
``AfterCommit`` (``room=``) and the node's mute cache (``mutes=``), it queues the room event
(``comment_hidden``, ``comment_shown``) and the mute-cache announcement inside that
transaction (``chat.announce``): they go out with the commit, in that order, and never
without it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role, User
from liveshop.accounts.service import Principal, get_user
from liveshop.chat import announce
from liveshop.chat.models import (
    REASON_MAX,
    ActorRole,
    ChatMute,
    ChatReport,
    ModerationAction,
    ModerationLogEntry,
    ReportStatus,
)
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live import service as live_service
from liveshop.live.models import LiveComment, LiveSession
from liveshop.realtime.publish import AfterCommit

MAX_MUTE_MINUTES = 30 * 24 * 60  # longer than a month: mute without an end instead
# What the studio offers (minutes; None: until lifted).
MUTE_CHOICES: tuple[tuple[int | None, str], ...] = (
    (10, "10 minutes"),
    (60, "1 hour"),
    (24 * 60, "24 hours"),
    (None, "Until I unmute"),
)


@dataclass(frozen=True, slots=True)
class CommentView:
    """A comment as the room shows it (the ``comment`` event's fields)."""

    id: int
    session_id: int
    user_id: int
    display_name: str
    text: str
    host: bool
    hidden: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Changed:
    """The comment after a hide/unhide; ``changed`` is False when it already was so (and
    nothing was logged: ``log_id`` is None)."""

    comment: CommentView
    changed: bool
    log_id: int | None = None


@dataclass(frozen=True, slots=True)
class MuteView:
    id: int
    creator_id: int
    user_id: int
    display_name: str
    session_id: int | None
    reason: str
    muted_by: int | None
    created_at: datetime
    expires_at: datetime | None
    ban: bool = False


@dataclass(frozen=True, slots=True)
class Muted:
    mute: MuteView
    hidden_comment_ids: list[int]  # this session's comments of theirs hidden with the mute


async def moderated_session(
    session: AsyncSession, principal: Principal, session_id: int
) -> LiveSession:
    """The session, if ``principal`` may moderate its chat (404 unknown, 403 otherwise):
    whoever controls the room (its creator, their moderators, admins) and the platform's
    chat moderators (``Role.MODERATOR``)."""
    live = await live_service.get_session(session, session_id)
    if not principal.has(Role.MODERATOR):
        await live_service.ensure_can_control(session, principal, live)
    return live


# --- comments -------------------------------------------------------------------------


async def _comment(session: AsyncSession, live: LiveSession, comment_id: int) -> LiveComment:
    found = await session.get(LiveComment, comment_id)
    if found is None or found.session_id != live.id:
        raise NotFound(
            _(
                "comment %(comment_id)s does not exist in session %(id)s",
                comment_id=comment_id,
                id=live.id,
            ),
            code="comment-not-found",
            comment_id=comment_id,
        )
    return found


async def _view(session: AsyncSession, live: LiveSession, comment: LiveComment) -> CommentView:
    author = await get_user(session, comment.user_id)
    return CommentView(
        id=comment.id,
        session_id=comment.session_id,
        user_id=comment.user_id,
        display_name=author.display_name,
        text=comment.text,
        host=await live_service.is_host(session, comment.user_id, live),
        hidden=comment.hidden,
        created_at=comment.created_at,
    )


async def actor_role(session: AsyncSession, live: LiveSession, actor_id: int) -> ActorRole:
    """In what capacity ``actor_id`` moderates this session's chat (the most specific one)."""
    if actor_id == live.creator_id:
        return ActorRole.CREATOR
    if await live_service.is_moderator(session, actor_id, live):
        return ActorRole.MODERATOR
    if Role.ADMIN in (await get_user(session, actor_id)).role_names:
        return ActorRole.ADMIN
    return ActorRole.PLATFORM_MODERATOR


def _log(
    session: AsyncSession,
    live: LiveSession,
    action: ModerationAction,
    *,
    actor_id: int,
    role: ActorRole,
    target_user_id: int,
    comment_id: int | None = None,
    mute_id: int | None = None,
) -> ModerationLogEntry:
    entry = ModerationLogEntry(
        session_id=live.id,
        actor_id=actor_id,
        actor_role=str(role),
        action=str(action),
        comment_id=comment_id,
        target_user_id=target_user_id,
        mute_id=mute_id,
    )
    session.add(entry)
    return entry


async def set_hidden(
    session: AsyncSession,
    live: LiveSession,
    comment_id: int,
    *,
    hidden: bool,
    actor_id: int,
    room: AfterCommit | None = None,
) -> Changed:
    """Hide (or show again) one comment of the session. Idempotent. Commits. Given ``room``,
    a change's ``comment_hidden`` or ``comment_shown`` goes out with the commit (then
    ``room.last_seq`` is its seq; None when nothing changed)."""
    comment = await _comment(session, live, comment_id)
    changed = comment.hidden != hidden
    log_id = None
    if changed:
        comment.hidden = hidden
        action = ModerationAction.HIDE if hidden else ModerationAction.UNHIDE
        entry = _log(
            session,
            live,
            action,
            actor_id=actor_id,
            role=await actor_role(session, live, actor_id),
            target_user_id=comment.user_id,
            comment_id=comment.id,
        )
        await session.flush()
        log_id = entry.id
        if hidden:
            await _reports_actioned(session, live, actor_id, ChatReport.comment_id == comment.id)
    view = await _view(session, live, comment)
    if changed and room is not None:
        _announce_hidden(room, view)
    await session.commit()
    return Changed(view, changed, log_id)


async def _reports_actioned(
    session: AsyncSession, live: LiveSession, actor_id: int, which: ColumnElement[bool]
) -> None:
    """The session's open reports about what was just hidden, muted or banned: handled."""
    await session.execute(
        update(ChatReport)
        .where(ChatReport.session_id == live.id, ChatReport.status == str(ReportStatus.OPEN), which)
        .values(status=str(ReportStatus.ACTIONED), handled_by=actor_id, handled_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _announce_hidden(room: AfterCommit, c: CommentView) -> None:
    if c.hidden:
        announce.comments_hidden(room, c.session_id, [c.id])
        return
    announce.comment_shown(
        room,
        c.session_id,
        comment_id=c.id,
        user_id=c.user_id,
        display_name=c.display_name,
        text=c.text,
        host=c.host,
        at=c.created_at,
    )


async def hidden_by(session: AsyncSession, comment_id: int) -> ModerationLogEntry | None:
    """Who hid a comment and when: the latest hide/unhide of it, if that was a hide."""
    last = await session.scalar(
        select(ModerationLogEntry)
        .where(
            ModerationLogEntry.comment_id == comment_id,
            ModerationLogEntry.action.in_([ModerationAction.HIDE, ModerationAction.UNHIDE]),
        )
        .order_by(ModerationLogEntry.id.desc())
        .limit(1)
    )
    return last if last is not None and last.action == ModerationAction.HIDE else None


# --- mutes ----------------------------------------------------------------------------


def _in_force(now: datetime) -> list[ColumnElement[bool]]:
    return [
        ChatMute.lifted_at.is_(None),
        or_(ChatMute.expires_at.is_(None), ChatMute.expires_at > now),
    ]


async def _lift(
    session: AsyncSession,
    creator_id: int,
    user_id: int,
    *,
    actor_id: int,
    now: datetime,
    bans: bool | None = False,
) -> list[int]:
    """Lift the mutes (``bans`` False), bans (True) or both (None) in force on ``user_id``
    in the creator's rooms; their ids."""
    which = [] if bans is None else [ChatMute.ban.is_(bans)]
    result = await session.execute(
        update(ChatMute)
        .where(
            ChatMute.creator_id == creator_id,
            ChatMute.user_id == user_id,
            *_in_force(now),
            *which,
        )
        .values(lifted_at=now, lifted_by=actor_id)
        .returning(ChatMute.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


def _mute_view(row: ChatMute, display_name: str) -> MuteView:
    return MuteView(
        id=row.id,
        creator_id=row.creator_id,
        user_id=row.user_id,
        display_name=display_name,
        session_id=row.session_id,
        reason=row.reason,
        muted_by=row.muted_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        ban=row.ban,
    )


async def mute(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    *,
    actor_id: int,
    minutes: int | None,
    reason: str = "",
    hide_comments: bool = False,
    room: AfterCommit | None = None,
    mutes: announce.MuteChanges | None = None,
) -> Muted:
    """Mute ``user_id`` in all of the session creator's rooms for ``minutes`` (None: until
    lifted). Muting again replaces the mute in force; a banned viewer cannot be muted (409
    ``viewer-banned``: the ban holds). ``hide_comments`` also hides their comments in this
    session. The creator and their moderators cannot be muted. Commits; with it every node
    hears of the mute (``mutes``), then the room of the hidden comments (one
    ``comment_hidden``, on ``room``)."""
    if minutes is not None and not 1 <= minutes <= MAX_MUTE_MINUTES:
        raise Unprocessable(
            _(
                "a mute lasts 1 to %(max_mute_minutes)s minutes, or has no end",
                max_mute_minutes=MAX_MUTE_MINUTES,
            ),
            code="bad-mute-duration",
            minutes=minutes,
        )
    return await _restrict(
        session,
        live,
        user_id,
        actor_id=actor_id,
        minutes=minutes,
        ban=False,
        reason=reason,
        hide_comments=hide_comments,
        room=room,
        mutes=mutes,
    )


async def ban(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    *,
    actor_id: int,
    reason: str = "",
    hide_comments: bool = True,
    room: AfterCommit | None = None,
    mutes: announce.MuteChanges | None = None,
) -> Muted:
    """Ban ``user_id`` from all of the session creator's rooms until a moderator lifts it:
    their comments are refused (as a mute's), and so are their bids and giveaway entries.
    Replaces the mute in force; banning a banned viewer is 409 ``already-banned``. Logged
    as ``ban`` (undone from the log: ``unban``). Commits, announcing like :func:`mute`."""
    return await _restrict(
        session,
        live,
        user_id,
        actor_id=actor_id,
        minutes=None,
        ban=True,
        reason=reason,
        hide_comments=hide_comments,
        room=room,
        mutes=mutes,
    )


async def banned_among(
    session: AsyncSession, creator_id: int, user_ids: Collection[int]
) -> set[int]:
    """Who of ``user_ids`` is banned from the creator's rooms now (bids and giveaway entries
    ask through ``live.bans``: one read for a batch)."""
    rows = await session.scalars(
        select(ChatMute.user_id).where(
            ChatMute.creator_id == creator_id,
            ChatMute.user_id.in_(list(user_ids)),
            ChatMute.ban.is_(True),
            *_in_force(utcnow()),
        )
    )
    return set(rows.all())


async def is_banned(session: AsyncSession, creator_id: int, user_id: int) -> bool:
    """Whether ``user_id`` is banned from the creator's rooms now."""
    return bool(await banned_among(session, creator_id, [user_id]))


async def _restrict(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    *,
    actor_id: int,
    minutes: int | None,
    ban: bool,
    reason: str,
    hide_comments: bool,
    room: AfterCommit | None,
    mutes: announce.MuteChanges | None,
) -> Muted:
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise Unprocessable(
            _("a reason is at most %(reason_max)s characters", reason_max=REASON_MAX),
            code="bad-reason",
        )
    target = await get_user(session, user_id)
    if await live_service.is_host(session, user_id, live):
        raise Unprocessable(
            _("the creator and their moderators cannot be muted or banned in their rooms"),
            code="cannot-mute-host",
            user_id=user_id,
        )
    if await is_banned(session, live.creator_id, user_id):
        await session.rollback()
        raise Conflict(
            _("this viewer is banned from these rooms; lift the ban first"),
            code="already-banned" if ban else "viewer-banned",
            user_id=user_id,
        )
    now = utcnow()
    await _lift(session, live.creator_id, user_id, actor_id=actor_id, now=now, bans=False)
    row = ChatMute(
        creator_id=live.creator_id,
        user_id=user_id,
        session_id=live.id,
        reason=reason,
        muted_by=actor_id,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes) if minutes is not None else None,
        ban=ban,
    )
    session.add(row)
    await session.flush()  # the mute's id, for the log
    role = await actor_role(session, live, actor_id)
    _log(
        session,
        live,
        ModerationAction.BAN if ban else ModerationAction.MUTE,
        actor_id=actor_id,
        role=role,
        target_user_id=user_id,
        mute_id=row.id,
    )
    hidden: list[int] = []
    if hide_comments:
        hidden = list(
            (
                await session.scalars(
                    select(LiveComment.id)
                    .where(
                        LiveComment.session_id == live.id,
                        LiveComment.user_id == user_id,
                        LiveComment.hidden.is_(False),
                    )
                    .order_by(LiveComment.id)
                )
            ).all()
        )
        if hidden:
            await session.execute(
                update(LiveComment)
                .where(LiveComment.id.in_(hidden))
                .values(hidden=True)
                .execution_options(synchronize_session=False)
            )
            for comment_id in hidden:
                _log(
                    session,
                    live,
                    ModerationAction.HIDE,
                    actor_id=actor_id,
                    role=role,
                    target_user_id=user_id,
                    comment_id=comment_id,
                    mute_id=row.id,
                )
    await _reports_actioned(session, live, actor_id, ChatReport.target_user_id == user_id)
    await session.flush()
    view = _mute_view(row, target.display_name)
    if mutes is not None:
        announce.mutes_changed(session, mutes, live.creator_id)
    if hidden and room is not None:
        announce.comments_hidden(room, live.id, hidden)
    await session.commit()
    return Muted(view, hidden)


async def unmute(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    *,
    actor_id: int,
    mutes: announce.MuteChanges | None = None,
) -> int:
    """Lift the mute in force on ``user_id`` in the creator's rooms (404 if there is none;
    a ban is lifted by :func:`unban`). Commits, and with it every node hears of it
    (``mutes``); the id of the ``unmute`` log entry."""
    return await _unrestrict(session, live, user_id, actor_id=actor_id, ban=False, mutes=mutes)


async def unban(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    *,
    actor_id: int,
    mutes: announce.MuteChanges | None = None,
) -> int:
    """Lift the ban on ``user_id`` in the creator's rooms (404 ``ban-not-found`` if there is
    none). Commits, announcing like :func:`unmute`; the id of the ``unban`` log entry."""
    return await _unrestrict(session, live, user_id, actor_id=actor_id, ban=True, mutes=mutes)


async def _unrestrict(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    *,
    actor_id: int,
    ban: bool,
    mutes: announce.MuteChanges | None,
) -> int:
    lifted = await _lift(
        session, live.creator_id, user_id, actor_id=actor_id, now=utcnow(), bans=ban
    )
    if not lifted:
        await session.rollback()
        raise NotFound(
            (
                _("user %(user_id)s is not banned from these rooms", user_id=user_id)
                if ban
                else _("user %(user_id)s is not muted in these rooms", user_id=user_id)
            ),
            code="ban-not-found" if ban else "mute-not-found",
            user_id=user_id,
        )
    entry = _log(
        session,
        live,
        ModerationAction.UNBAN if ban else ModerationAction.UNMUTE,
        actor_id=actor_id,
        role=await actor_role(session, live, actor_id),
        target_user_id=user_id,
        mute_id=lifted[-1],
    )
    await session.flush()
    log_id = entry.id
    if mutes is not None:
        announce.mutes_changed(session, mutes, live.creator_id)
    await session.commit()
    return log_id


async def active_mutes(session: AsyncSession, creator_id: int) -> list[MuteView]:
    """Mutes in force in the creator's rooms, newest first, with the viewers' names."""
    rows = await session.execute(
        select(ChatMute, User.display_name)
        .join(User, User.id == ChatMute.user_id)
        .where(ChatMute.creator_id == creator_id, *_in_force(utcnow()))
        .order_by(ChatMute.id.desc())
    )
    return [_mute_view(row, name) for row, name in rows.all()]


async def muted_users(session: AsyncSession, creator_id: int) -> dict[int, datetime | None]:
    """``{user_id: expires_at}`` of the mutes in force (None: no end) — what a room caches."""
    rows = await session.execute(
        select(ChatMute.user_id, ChatMute.expires_at).where(
            ChatMute.creator_id == creator_id, *_in_force(utcnow())
        )
    )
    out: dict[int, datetime | None] = {}
    for user_id, expires_at in rows.all():
        if user_id in out:  # two at once (a race between two mutes): the longer holds
            prev = out[user_id]
            out[user_id] = None if prev is None or expires_at is None else max(prev, expires_at)
        else:
            out[user_id] = expires_at
    return out


async def banned_users(session: AsyncSession, creator_id: int) -> set[int]:
    """Who is banned from the creator's rooms now (the cache tells the ban from a mute)."""
    rows = await session.scalars(
        select(ChatMute.user_id).where(
            ChatMute.creator_id == creator_id, ChatMute.ban.is_(True), *_in_force(utcnow())
        )
    )
    return set(rows.all())
