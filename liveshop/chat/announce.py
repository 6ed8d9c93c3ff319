"""What chat moderation tells others, queued inside the transaction that makes the change.

Two audiences: the room's viewers (``comment_hidden``, ``comment_shown`` on the room's
sequenced channel, through the room's :class:`~liveshop.realtime.publish.AfterCommit`) and
every node's caches (the mute cache on ``chat:mutes``, the filter cache on ``chat:filters``,
through ``core.db.on_commit``). Either goes out once the transaction commits, in the order
queued, and never if it rolls back: no viewer loses a line, and no node drops a cache entry,
for a change the database does not have — by mechanism, not by the caller remembering to
announce afterwards (as ``live.announce`` does for pins and sessions).

The caches are reached through the small protocols below, which ``chat.mutes.MuteCache`` and
``chat.filter_cache.FilterCache`` satisfy: those modules read through the services, so the
services cannot import them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.db import on_commit
from liveshop.core.events import EventType
from liveshop.realtime.publish import AfterCommit, comment_hidden_event, comment_shown_event


class MuteChanges(Protocol):
    """The node's mute cache: told that a creator's mutes changed, it forgets them here at
    once and tells every other node."""

    async def changed(self, creator_id: int) -> None: ...


class FilterChanges(Protocol):
    """The node's filter cache: told that a creator's or the platform's list or switches
    changed, it forgets them here at once and tells every other node."""

    async def creator_changed(self, creator_id: int) -> None: ...

    async def platform_changed(self) -> None: ...


def comments_hidden(room: AfterCommit, session_id: int, comment_ids: Sequence[int]) -> None:
    """Every viewer drops these lines; snapshots and replays leave them out."""
    room.publish(session_id, EventType.COMMENT_HIDDEN, comment_hidden_event(comment_ids))


def comment_shown(
    room: AfterCommit,
    session_id: int,
    *,
    comment_id: int,
    user_id: int,
    display_name: str,
    text: str,
    host: bool,
    at: datetime,
) -> None:
    """A hidden line is back: rooms put it in its place (``at``: when it was posted)."""
    payload = comment_shown_event(
        comment_id=comment_id,
        user_id=user_id,
        display_name=display_name,
        text=text,
        host=host,
        at=at,
    )
    room.publish(session_id, EventType.COMMENT_SHOWN, payload)


def mutes_changed(session: AsyncSession, mutes: MuteChanges, creator_id: int) -> None:
    """Every node reads the creator's mutes again once this transaction commits."""
    on_commit(session, partial(mutes.changed, creator_id))


def creator_filter_changed(session: AsyncSession, cache: FilterChanges, creator_id: int) -> None:
    """Every node reads the creator's list and switch again once this transaction commits."""
    on_commit(session, partial(cache.creator_changed, creator_id))


def platform_filter_changed(session: AsyncSession, cache: FilterChanges) -> None:
    """Every node reads the platform's lists and switches again once this commits."""
    on_commit(session, cache.platform_changed)
