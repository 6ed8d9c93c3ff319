"""What happens in a room that the database keeps: comments, audience stats, sales.

``record_sale`` is for the orders domain: it flushes and does not commit, so an in-room
order and the session's GMV change in the order's own transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert, Update

from liveshop.accounts.models import User
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext
from liveshop.live.models import LiveComment, LiveSession, SessionStatus
from liveshop.realtime.ports import Hold


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    user_id: int
    display_name: str
    text: str
    created_at: datetime


async def post_comment(session: AsyncSession, *, session_id: int, user_id: int, text: str) -> int:
    """Store one chat line; only while the session is live (409 ``room-not-live``)."""
    (stored,) = await post_comments(session, [(session_id, user_id, text)])
    if stored is None:
        raise Conflict(
            gettext("the session is not live"), code="room-not-live", session_id=session_id
        )
    return stored


async def post_comments(
    session: AsyncSession, items: Sequence[tuple[int, int, str]]
) -> list[int | None]:
    """Store many chat lines ``(session_id, user_id, text)`` in one transaction; their ids
    (None for a line whose session is not live). Commits."""
    stored = await store_comments(session, items)
    await session.commit()
    return stored


async def store_comments(
    session: AsyncSession,
    items: Sequence[tuple[int, int, str]],
    hidden: Sequence[bool] | None = None,
) -> list[int | None]:
    """Store many chat lines ``(session_id, user_id, text)``; their ids. Does not commit.

    A line is stored only if its session is live (None in its place otherwise). The counter
    UPDATE is conditional on ``status = 'live'``, so a line racing with "end session" is
    either counted and stored, or refused — never half of it. One multi-row INSERT (no ORM
    unit of work): this runs for every batch of chat in every room. ``hidden[i]``: line
    ``i`` is stored hidden (the chat filter held it) and not counted in the session's
    comments.
    """
    live: set[int] = set()
    for session_id, n in _per_session(items, hidden):
        result = await session.execute(_count_comments(session_id, n))
        if getattr(result, "rowcount", 0) == 1:
            live.add(session_id)
    rows = _comment_rows(items, live, hidden)
    ids = list((await session.execute(_insert_comments(), rows)).scalars()) if rows else []
    return _ids_in_order(items, live, ids)


def store_comments_sync(
    session: Session,
    items: Sequence[tuple[int, int, str]],
    hidden: Sequence[bool] | None = None,
) -> list[int | None]:
    """``store_comments`` on a synchronous session (the comment writer's SQLite thread)."""
    live: set[int] = set()
    for session_id, n in _per_session(items, hidden):
        result = session.execute(_count_comments(session_id, n))
        if getattr(result, "rowcount", 0) == 1:
            live.add(session_id)
    rows = _comment_rows(items, live, hidden)
    ids = list(session.execute(_insert_comments(), rows).scalars()) if rows else []
    return _ids_in_order(items, live, ids)


def held_flags(held: Sequence[object | None] | None) -> list[bool] | None:
    """Which lines the filter held (they are stored hidden), from each line's reason."""
    return [h is not None for h in held] if held and any(h is not None for h in held) else None


class SessionComments:
    """The rooms' comment store (``realtime.ports.CommentStore``): a batch in one
    transaction, held lines stored hidden. Chat's store adds their moderation log entries."""

    async def store(
        self,
        session: AsyncSession,
        items: Sequence[tuple[int, int, str]],
        held: Sequence[Hold | None] | None,
    ) -> list[int | None]:
        stored = await store_comments(session, items, held_flags(held))
        await session.commit()
        return stored

    def store_sync(
        self,
        session: Session,
        items: Sequence[tuple[int, int, str]],
        held: Sequence[Hold | None] | None,
    ) -> list[int | None]:
        stored = store_comments_sync(session, items, held_flags(held))
        session.commit()
        return stored


def _per_session(
    items: Sequence[tuple[int, int, str]], hidden: Sequence[bool] | None
) -> list[tuple[int, int]]:
    """(session, lines the room's comment count gains): every session with a line (the
    UPDATE also tells whether it is live), counting only lines the filter did not hold —
    spam held for review is not engagement."""
    counted = Counter({session_id: 0 for session_id, _, _ in items})
    counted.update(
        session_id for i, (session_id, _, _) in enumerate(items) if not hidden or not hidden[i]
    )
    return sorted(counted.items())


def _count_comments(session_id: int, n: int) -> Update:
    return (
        update(LiveSession)
        .where(LiveSession.id == session_id, LiveSession.status == SessionStatus.LIVE)
        .values(comments_count=LiveSession.comments_count + n)
        .execution_options(synchronize_session=False)
    )


def _comment_rows(
    items: Sequence[tuple[int, int, str]], live: set[int], hidden: Sequence[bool] | None
) -> list[dict[str, Any]]:
    now = utcnow()
    flags = hidden or [False] * len(items)
    return [
        {"session_id": sid, "user_id": uid, "text": text, "hidden": hide, "created_at": now}
        for (sid, uid, text), hide in zip(items, flags, strict=True)
        if sid in live
    ]


def _insert_comments() -> ReturningInsert[Any]:
    return insert(LiveComment).returning(LiveComment.id, sort_by_parameter_order=True)


def _ids_in_order(
    items: Sequence[tuple[int, int, str]], live: set[int], ids: list[int]
) -> list[int | None]:
    stored = iter(ids)
    return [next(stored) if sid in live else None for sid, _, _ in items]


async def recent_comments(
    session: AsyncSession, session_id: int, *, limit: int = 50
) -> list[CommentView]:
    """The last ``limit`` visible comments, oldest first (for a room's first snapshot)."""
    rows = await session.execute(
        select(LiveComment, User.display_name)
        .join(User, User.id == LiveComment.user_id)
        .where(LiveComment.session_id == session_id, LiveComment.hidden.is_(False))
        .order_by(LiveComment.id.desc())
        .limit(limit)
    )
    out = [
        CommentView(
            id=c.id, user_id=c.user_id, display_name=name, text=c.text, created_at=c.created_at
        )
        for c, name in rows.all()
    ]
    out.reverse()
    return out


async def record_room_stats(
    session: AsyncSession, session_id: int, *, peak_viewers: int, avg_viewers: int, likes: int
) -> None:
    """Audience numbers from the room (peak only ever grows). Commits."""
    await session.execute(
        update(LiveSession)
        .where(LiveSession.id == session_id)
        .values(
            peak_viewers=case(
                (LiveSession.peak_viewers < peak_viewers, peak_viewers),
                else_=LiveSession.peak_viewers,
            ),
            avg_viewers=avg_viewers,
            likes=case((LiveSession.likes < likes, likes), else_=LiveSession.likes),
        )
        .execution_options(synchronize_session=False)
    )
    await session.commit()


async def record_sale(
    session: AsyncSession, session_id: int, *, gmv_minor: int, currency: str, orders: int = 1
) -> None:
    """Add an in-room order to the session's orders and GMV. Flushes; the caller commits.

    GMV is kept in the session's currency: an order in another currency is a bug upstream.
    """
    if gmv_minor < 0 or orders < 0:
        raise Unprocessable(gettext("sales are not negative"), code="bad-sale")
    result = await session.execute(
        update(LiveSession)
        .where(LiveSession.id == session_id, LiveSession.currency == currency.upper())
        .values(
            orders_count=LiveSession.orders_count + orders,
            gmv_minor=LiveSession.gmv_minor + gmv_minor,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Unprocessable(
            gettext(
                "session %(session_id)s does not exist or is not in %(currency)s",
                session_id=session_id,
                currency=currency,
            ),
            code="sale-session-mismatch",
            session_id=session_id,
        )


async def comments_of(session: AsyncSession, session_id: int) -> Sequence[LiveComment]:
    rows = await session.scalars(
        select(LiveComment).where(LiveComment.session_id == session_id).order_by(LiveComment.id)
    )
    return rows.all()
