"""The moderation log as its readers see it: what was moderated in whose sessions, and undo.

Who sees which sessions' log (``scope_of``): the session's creator and their moderators (a
moderator of all the creator's sessions, or of one), and — all sessions — admins and the
platform's chat moderators (``Role.MODERATOR``, who may moderate every room). Anyone else is
refused (403 ``not-room-host``), as for the moderation itself.

An entry shows when, which action, by whom and in what capacity (``actor_role``), the viewer
it was about, the comment (its text, and whether it is hidden now) and the mute (reason, end,
whether it is still in force). ``undo`` reverses a hide (unhide) or a mute (unmute) through
the same service functions as the studio, so the reversal is logged like any action and its
room event (``room=``) or mute-cache announcement (``mutes=``) goes out with its commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from liveshop.accounts.models import Role, User
from liveshop.accounts.service import Principal
from liveshop.chat import service
from liveshop.chat.announce import MuteChanges
from liveshop.chat.models import (
    ActorRole,
    ChatMute,
    FilterRule,
    ModerationAction,
    ModerationLogEntry,
)
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden, NotFound
from liveshop.core.i18n import gettext
from liveshop.live.models import LiveComment, LiveSession, SessionModerator
from liveshop.realtime.publish import AfterCommit

PAGE_MAX = 200
TIMES_MAX = 50_000  # entry times one chart reads at most (a session's log is far smaller)

ACTION_LABELS: dict[ModerationAction, str] = {
    ModerationAction.HIDE: "Hid a comment",
    ModerationAction.UNHIDE: "Unhid a comment",
    ModerationAction.MUTE: "Muted a viewer",
    ModerationAction.UNMUTE: "Unmuted a viewer",
    ModerationAction.BAN: "Banned a viewer",
    ModerationAction.UNBAN: "Lifted a ban",
}
ROLE_LABELS: dict[ActorRole, str] = {
    ActorRole.CREATOR: "Creator",
    ActorRole.MODERATOR: "Moderator",
    ActorRole.ADMIN: "Admin",
    ActorRole.PLATFORM_MODERATOR: "Platform moderator",
    ActorRole.FILTER: "Automatic filter",
}
# What undoes what (only these three can be undone).
UNDO: dict[ModerationAction, ModerationAction] = {
    ModerationAction.HIDE: ModerationAction.UNHIDE,
    ModerationAction.MUTE: ModerationAction.UNMUTE,
    ModerationAction.BAN: ModerationAction.UNBAN,
}


@dataclass(frozen=True, slots=True)
class Scope:
    """The sessions whose log a principal may read: every session, or those of
    ``creator_ids`` plus ``session_ids``."""

    everything: bool
    creator_ids: frozenset[int] = frozenset()
    session_ids: frozenset[int] = frozenset()

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.creator_ids:
            parts.append(LiveSession.creator_id.in_(sorted(self.creator_ids)))
        if self.session_ids:
            parts.append(LiveSession.id.in_(sorted(self.session_ids)))
        return or_(*parts) if parts else false()


@dataclass(frozen=True, slots=True)
class Filters:
    session_id: int | None = None
    creator_id: int | None = None
    actions: frozenset[ModerationAction] = frozenset()


@dataclass(frozen=True, slots=True)
class MuteInfo:
    id: int
    reason: str
    created_at: datetime
    expires_at: datetime | None  # None: until lifted
    lifted_at: datetime | None
    in_force: bool


@dataclass(frozen=True, slots=True)
class EntryView:
    id: int
    created_at: datetime
    action: ModerationAction
    session_id: int
    session_title: str
    creator_id: int
    market_code: str
    actor_id: int | None  # None: the account is gone
    actor_name: str | None
    actor_role: ActorRole | None  # None: an old entry whose actor could not be placed
    target_user_id: int | None
    target_name: str | None
    comment_id: int | None
    comment_text: str | None  # None: no comment, or it is gone
    comment_hidden: bool | None  # now
    comment_at: datetime | None
    mute: MuteInfo | None
    undo: ModerationAction | None  # what would undo this entry now, if anything
    filter_rule: FilterRule | None = None  # a hide by the automatic filter: which rule
    filter_match: str | None = None  # ... and what matched (the term, or the link's kind)

    @property
    def automatic(self) -> bool:
        return self.actor_role == ActorRole.FILTER

    @property
    def action_label(self) -> str:
        if self.automatic and self.action == ModerationAction.HIDE:
            return "Held a comment"
        return ACTION_LABELS[self.action]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.actor_role] if self.actor_role is not None else ""

    @property
    def filter_label(self) -> str:
        """Why the filter held it, for people: 'blocked term “x”', 'platform blocked term
        “x”', 'a link (phone)'."""
        if self.filter_rule is None:
            return ""
        if self.filter_rule == FilterRule.COMPLAINT:
            return "a complaint, routed to seller support"
        if self.filter_rule == FilterRule.LINK:
            return f"a link ({self.filter_match})" if self.filter_match else "a link"
        if self.filter_rule == FilterRule.PLATFORM_TERM:
            return f"platform blocked term “{self.filter_match}”"
        return f"blocked term “{self.filter_match}”"


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[EntryView]
    total: int  # entries matching the filters
    counts: dict[ModerationAction, int]  # per action, with every filter but the action's


@dataclass(frozen=True, slots=True)
class SessionChoice:
    """A session the reader may pick in the log's filter."""

    id: int
    title: str
    creator_id: int
    planned_start: datetime
    status: str


@dataclass(frozen=True, slots=True)
class Undone:
    """An undo that committed (its announcements went out with the commit)."""

    undid: ModerationAction  # UNHIDE, UNMUTE or UNBAN
    entry_id: int  # the new log entry (the unhide or unmute)
    session_id: int
    creator_id: int
    comment: service.CommentView | None  # UNHIDE: the comment, shown again


# --- who sees what ----------------------------------------------------------------------


async def scope_of(session: AsyncSession, principal: Principal) -> Scope:
    """The sessions ``principal`` may read the log of (403 ``not-room-host`` if none can be
    theirs: not a creator, moderating for nobody, no admin or platform moderator)."""
    if principal.has(Role.ADMIN, Role.MODERATOR):
        return Scope(everything=True)
    rows = (
        await session.execute(
            select(SessionModerator.creator_id, SessionModerator.session_id).where(
                SessionModerator.user_id == principal.user_id
            )
        )
    ).all()
    creators = {principal.user_id}
    creators.update(c for c, s in rows if s is None and c is not None)
    sessions = {s for _, s in rows if s is not None}
    if not rows and not principal.has(Role.CREATOR) and not await _hosted_any(session, principal):
        raise Forbidden(
            gettext("only a session's creator, their moderators and admins see its moderation log"),
            code="not-room-host",
        )
    return Scope(everything=False, creator_ids=frozenset(creators), session_ids=frozenset(sessions))


async def _hosted_any(session: AsyncSession, principal: Principal) -> bool:
    """A former creator (the role taken away) still reads the log of their own sessions."""
    found = await session.scalar(
        select(LiveSession.id).where(LiveSession.creator_id == principal.user_id).limit(1)
    )
    return found is not None


def _where(scope: Scope, filters: Filters, *, with_actions: bool) -> list[ColumnElement[bool]]:
    where = [scope.condition()]
    if filters.session_id is not None:
        where.append(ModerationLogEntry.session_id == filters.session_id)
    if filters.creator_id is not None:
        where.append(LiveSession.creator_id == filters.creator_id)
    if with_actions and filters.actions:
        where.append(ModerationLogEntry.action.in_(sorted(filters.actions)))
    return where


# --- reading ----------------------------------------------------------------------------

_Actor = aliased(User, name="actor")
_Target = aliased(User, name="target")


# The outer-joined columns are None when there is nothing to join (see _view).
_EntryRow = Select[ModerationLogEntry, str, int, str, str, str, str, bool, datetime, ChatMute]


def _entries_query() -> _EntryRow:
    return (
        select(
            ModerationLogEntry,
            LiveSession.title,
            LiveSession.creator_id,
            LiveSession.market_code,
            _Actor.display_name,
            _Target.display_name,
            LiveComment.text,
            LiveComment.hidden,
            LiveComment.created_at,
            ChatMute,
        )
        .join(LiveSession, LiveSession.id == ModerationLogEntry.session_id)
        .outerjoin(_Actor, _Actor.id == ModerationLogEntry.actor_id)
        .outerjoin(_Target, _Target.id == ModerationLogEntry.target_user_id)
        .outerjoin(LiveComment, LiveComment.id == ModerationLogEntry.comment_id)
        .outerjoin(ChatMute, ChatMute.id == ModerationLogEntry.mute_id)
    )


def _mute_info(mute: ChatMute | None, now: datetime) -> MuteInfo | None:
    if mute is None:
        return None
    in_force = mute.lifted_at is None and (mute.expires_at is None or mute.expires_at > now)
    return MuteInfo(
        id=mute.id,
        reason=mute.reason,
        created_at=mute.created_at,
        expires_at=mute.expires_at,
        lifted_at=mute.lifted_at,
        in_force=in_force,
    )


def _view(row: Any, now: datetime) -> EntryView:
    entry: ModerationLogEntry = row[0]
    title: str = row[1]
    creator_id: int = row[2]
    market: str = row[3]
    actor: str | None = row[4]
    target: str | None = row[5]
    text: str | None = row[6]
    hidden: bool | None = row[7]
    said_at: datetime | None = row[8]
    mute: ChatMute | None = row[9]
    action = ModerationAction(entry.action)
    info = _mute_info(mute, now)
    undo = None
    if action == ModerationAction.HIDE and hidden:
        undo = ModerationAction.UNHIDE
    elif action in (ModerationAction.MUTE, ModerationAction.BAN) and info and info.in_force:
        undo = UNDO[action]
    return EntryView(
        id=entry.id,
        created_at=entry.created_at,
        action=action,
        session_id=entry.session_id,
        session_title=title,
        creator_id=creator_id,
        market_code=market,
        actor_id=entry.actor_id,
        actor_name=actor,
        actor_role=ActorRole(entry.actor_role) if entry.actor_role else None,
        target_user_id=entry.target_user_id,
        target_name=target,
        comment_id=entry.comment_id,
        comment_text=text,
        comment_hidden=hidden,
        comment_at=said_at,
        mute=info,
        undo=undo,
        filter_rule=FilterRule(entry.filter_rule) if entry.filter_rule else None,
        filter_match=entry.filter_match,
    )


async def list_entries(
    session: AsyncSession,
    scope: Scope,
    filters: Filters = Filters(),
    *,
    limit: int = 50,
    offset: int = 0,
) -> LogPage:
    """Entries newest first, with the total and the per-action counts."""
    limit = max(1, min(limit, PAGE_MAX))
    base = select(ModerationLogEntry.id).join(
        LiveSession, LiveSession.id == ModerationLogEntry.session_id
    )
    total = await session.scalar(
        select(func.count()).select_from(
            base.where(*_where(scope, filters, with_actions=True)).subquery()
        )
    )
    per_action = await session.execute(
        select(ModerationLogEntry.action, func.count())
        .join(LiveSession, LiveSession.id == ModerationLogEntry.session_id)
        .where(*_where(scope, filters, with_actions=False))
        .group_by(ModerationLogEntry.action)
    )
    counts = {a: 0 for a in ModerationAction}
    for action, n in per_action.all():
        if action in counts:
            counts[ModerationAction(action)] = int(n)
    rows = await session.execute(
        _entries_query()
        .where(*_where(scope, filters, with_actions=True))
        .order_by(ModerationLogEntry.id.desc())
        .limit(limit)
        .offset(max(offset, 0))
    )
    now = utcnow()
    return LogPage([_view(r, now) for r in rows.all()], int(total or 0), counts)


async def get_entry(session: AsyncSession, entry_id: int) -> EntryView:
    row = (await session.execute(_entries_query().where(ModerationLogEntry.id == entry_id))).first()
    if row is None:
        raise NotFound(
            gettext("moderation log entry %(entry_id)s does not exist", entry_id=entry_id),
            code="moderation-entry-not-found",
            entry_id=entry_id,
        )
    return _view(row, utcnow())


async def entry_times(
    session: AsyncSession,
    scope: Scope,
    filters: Filters = Filters(),
    *,
    since: datetime | None = None,
) -> list[datetime]:
    """When each matching entry was made (since ``since``), oldest first — for a chart."""
    query = (
        select(ModerationLogEntry.created_at)
        .join(LiveSession, LiveSession.id == ModerationLogEntry.session_id)
        .where(*_where(scope, filters, with_actions=True))
    )
    if since is not None:
        query = query.where(ModerationLogEntry.created_at >= since)
    rows = await session.scalars(query.order_by(ModerationLogEntry.id.desc()).limit(TIMES_MAX))
    return sorted(rows.all())


async def sessions_in_scope(
    session: AsyncSession, scope: Scope, *, limit: int = 200
) -> list[SessionChoice]:
    """Sessions to pick from, newest first: in a wide scope (admins), those with entries."""
    query = select(
        LiveSession.id,
        LiveSession.title,
        LiveSession.creator_id,
        LiveSession.planned_start,
        LiveSession.status,
    ).where(scope.condition())
    if scope.everything:
        logged = select(ModerationLogEntry.session_id).distinct()
        query = query.where(LiveSession.id.in_(logged))
    rows = await session.execute(
        query.order_by(LiveSession.planned_start.desc(), LiveSession.id.desc()).limit(limit)
    )
    return [SessionChoice(*row) for row in rows.all()]


async def readable_session(session: AsyncSession, principal: Principal, session_id: int) -> None:
    """404 for an unknown session, 403 ``not-room-host`` if its log is not the caller's."""
    await service.moderated_session(session, principal, session_id)


# --- undo -------------------------------------------------------------------------------


async def undo(
    session: AsyncSession,
    principal: Principal,
    entry_id: int,
    *,
    room: AfterCommit | None = None,
    mutes: MuteChanges | None = None,
) -> Undone:
    """Reverse a hide (the comment is shown again) or a mute (it is lifted). 404 unknown
    entry, 403 not the caller's room, 409 ``cannot-undo`` for an unhide or unmute and
    ``nothing-to-undo`` when the comment is no longer hidden or the mute no longer in force.
    Commits (through ``service.set_hidden`` / ``service.unmute``, given ``room``/``mutes``)."""
    entry = await session.get(ModerationLogEntry, entry_id)
    if entry is None:
        raise NotFound(
            gettext("moderation log entry %(entry_id)s does not exist", entry_id=entry_id),
            code="moderation-entry-not-found",
            entry_id=entry_id,
        )
    live = await service.moderated_session(session, principal, entry.session_id)
    action = ModerationAction(entry.action)
    undid = UNDO.get(action)
    if undid is None:
        raise Conflict(
            gettext(
                "an %(action)s cannot be undone; only a hide, a mute or a ban can", action=action
            ),
            code="cannot-undo",
            entry_id=entry_id,
        )
    session_id, creator_id = live.id, live.creator_id
    if undid == ModerationAction.UNHIDE:
        assert entry.comment_id is not None
        done = await service.set_hidden(
            session, live, entry.comment_id, hidden=False, actor_id=principal.user_id, room=room
        )
        if done.log_id is None:
            raise Conflict(
                gettext("that comment is not hidden any more"),
                code="nothing-to-undo",
                entry_id=entry_id,
            )
        return Undone(undid, done.log_id, session_id, creator_id, done.comment)
    mute = await session.get(ChatMute, entry.mute_id) if entry.mute_id is not None else None
    info = _mute_info(mute, utcnow())
    if info is None or not info.in_force or entry.target_user_id is None:
        what = gettext("ban") if undid == ModerationAction.UNBAN else gettext("mute")
        raise Conflict(
            gettext("that %(what)s is no longer in force", what=what),
            code="nothing-to-undo",
            entry_id=entry_id,
        )
    lift = service.unban if undid == ModerationAction.UNBAN else service.unmute
    log_id = await lift(
        session, live, entry.target_user_id, actor_id=principal.user_id, mutes=mutes
    )
    return Undone(undid, log_id, session_id, creator_id, None)
