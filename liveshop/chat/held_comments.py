"""Chat lines stored with the filter's verdict: a held line is stored hidden and its ``hide``
by the filter goes to the moderation log in the same transaction.

This is the rooms' comment store once chat is installed (``chat.wiring.install_chat`` hands
it to the hub's comment writer): the session domain stores the lines, chat adds the log
entries (one more INSERT, only when a line was held), so the log never misses a held
comment and never names one that was not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from liveshop.chat.filter_rules import TERM_MAX
from liveshop.chat.models import ActorRole, ModerationAction, ModerationLogEntry
from liveshop.core.clock import utcnow
from liveshop.live.activity import held_flags, store_comments, store_comments_sync
from liveshop.realtime.ports import CommentItem, Hold


async def post_comments(
    session: AsyncSession,
    items: Sequence[CommentItem],
    held: Sequence[Hold | None] | None = None,
) -> list[int | None]:
    """Store many chat lines in one transaction (``live.activity.store_comments``) and log
    the held ones; their ids (None for a line whose session is not live). Commits."""
    stored = await store_comments(session, items, held_flags(held))
    log_rows = _held_log_rows(items, stored, held)
    if log_rows:
        await session.execute(insert(ModerationLogEntry), log_rows)
    await session.commit()
    return stored


def post_comments_sync(
    session: Session,
    items: Sequence[CommentItem],
    held: Sequence[Hold | None] | None = None,
) -> list[int | None]:
    """``post_comments`` on a synchronous session (the comment writer's SQLite thread)."""
    stored = store_comments_sync(session, items, held_flags(held))
    log_rows = _held_log_rows(items, stored, held)
    if log_rows:
        session.execute(insert(ModerationLogEntry), log_rows)
    session.commit()
    return stored


class HeldCommentStore:
    """``post_comments`` as the comment writer's store (``realtime.ports.CommentStore``)."""

    async def store(
        self,
        session: AsyncSession,
        items: Sequence[CommentItem],
        held: Sequence[Hold | None] | None,
    ) -> list[int | None]:
        return await post_comments(session, items, held)

    def store_sync(
        self, session: Session, items: Sequence[CommentItem], held: Sequence[Hold | None] | None
    ) -> list[int | None]:
        return post_comments_sync(session, items, held)


def _held_log_rows(
    items: Sequence[CommentItem],
    stored: Sequence[int | None],
    held: Sequence[Hold | None] | None,
) -> list[dict[str, Any]]:
    """The moderation log's entries for the held lines: a ``hide`` by the filter."""
    if not held or not any(held):
        return []
    now = utcnow()
    return [
        {
            "session_id": sid,
            "actor_id": None,
            "actor_role": str(ActorRole.FILTER),
            "action": str(ModerationAction.HIDE),
            "comment_id": comment_id,
            "target_user_id": uid,
            "created_at": now,
            "filter_rule": hit.rule,
            "filter_match": hit.match[:TERM_MAX],
        }
        for (sid, uid, _), comment_id, hit in zip(items, stored, held, strict=True)
        if hit is not None and comment_id is not None
    ]
