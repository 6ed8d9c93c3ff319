"""Revision 0011 fills in what older moderation log entries did not record: a hide's author,
the mute a mute gave or an unmute lifted, and the actor's capacity — on SQLite and
PostgreSQL, each on a database of its own migrated to 0010 first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.core.db import UTCDateTime
from liveshop.core.migrate import upgrade

T0 = datetime(2025, 3, 14, 18, 0, tzinfo=UTC)


def _table(name: str, *columns: str, times: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(c, UTCDateTime()) for c in times)
    )


USERS = _table(
    "users", "id", "email", "display_name", "password_hash", "is_active", times=("created_at",)
)
ROLES = _table("user_roles", "id", "user_id", "role")
SESSIONS = _table(
    "live_sessions",
    "id",
    "creator_id",
    "title",
    "market_code",
    "currency",
    "planned_duration_minutes",
    "status",
    "peak_viewers",
    "avg_viewers",
    "likes",
    "comments_count",
    "orders_count",
    "gmv_minor",
    times=("planned_start", "created_at"),
)
MODERATORS = _table(
    "live_moderators", "id", "creator_id", "session_id", "user_id", times=("created_at",)
)
COMMENTS = _table(
    "live_comments", "id", "session_id", "user_id", "text", "hidden", times=("created_at",)
)
MUTES = _table(
    "chat_mutes",
    "id",
    "creator_id",
    "user_id",
    "session_id",
    "reason",
    "muted_by",
    "lifted_by",
    times=("created_at", "expires_at", "lifted_at"),
)
LOG = _table(
    "chat_moderation_log",
    "id",
    "session_id",
    "actor_id",
    "action",
    "comment_id",
    "target_user_id",
    times=("created_at",),
)

# users: 1 creator, 2 viewer, 3 the creator's moderator, 4 admin, 5 platform moderator
PEOPLE = {1: "creator", 2: "buyer", 3: "buyer", 4: "admin", 5: "moderator"}


async def _before(url: str) -> None:
    engine = create_async_engine(url)
    ms = timedelta(milliseconds=1)
    async with engine.begin() as conn:
        for uid, role in PEOPLE.items():
            await conn.execute(
                USERS.insert().values(
                    id=uid,
                    email=f"u{uid}@example.com",
                    display_name=f"User {uid}",
                    password_hash="x",
                    is_active=True,
                    created_at=T0,
                )
            )
            await conn.execute(ROLES.insert().values(id=uid, user_id=uid, role=role))
        await conn.execute(
            SESSIONS.insert().values(
                id=1,
                creator_id=1,
                title="Old show",
                market_code="GB",
                currency="GBP",
                planned_duration_minutes=60,
                status="live",
                peak_viewers=0,
                avg_viewers=0,
                likes=0,
                comments_count=1,
                orders_count=0,
                gmv_minor=0,
                planned_start=T0,
                created_at=T0,
            )
        )
        await conn.execute(
            MODERATORS.insert().values(
                id=1, creator_id=1, session_id=None, user_id=3, created_at=T0
            )
        )
        await conn.execute(
            COMMENTS.insert().values(
                id=10, session_id=1, user_id=2, text="spam", hidden=True, created_at=T0
            )
        )
        await conn.execute(
            MUTES.insert().values(
                id=20,
                creator_id=1,
                user_id=2,
                session_id=1,
                reason="links",
                muted_by=1,
                created_at=T0 + ms,
                expires_at=None,
                lifted_at=T0 + 5 * ms,
                lifted_by=4,
            )
        )
        rows = [
            (1, 3, "hide", 10, None, T0 + 2 * ms),
            (2, 1, "mute", None, 2, T0 + 3 * ms),  # a moment after the mute's own time
            (3, 4, "unmute", None, 2, T0 + 6 * ms),
            (4, 5, "unhide", 10, None, T0 + 7 * ms),
            (5, None, "hide", 10, None, T0 + 8 * ms),  # the actor's account is gone
        ]
        for id_, actor, action, comment, target, at in rows:
            await conn.execute(
                LOG.insert().values(
                    id=id_,
                    session_id=1,
                    actor_id=actor,
                    action=action,
                    comment_id=comment,
                    target_user_id=target,
                    created_at=at,
                )
            )
    await engine.dispose()


async def _after(url: str) -> list[Any]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT id, action, target_user_id, mute_id, actor_role "
                "FROM chat_moderation_log ORDER BY id"
            )
        )
        out = [tuple(r) for r in rows.all()]
    await engine.dispose()
    return out


def test_the_backfill(fresh_url: str) -> None:
    upgrade(fresh_url, "0010")
    asyncio.run(_before(fresh_url))
    upgrade(fresh_url, "0011")
    assert asyncio.run(_after(fresh_url)) == [
        (1, "hide", 2, None, "moderator"),
        (2, "mute", 2, 20, "creator"),
        (3, "unmute", 2, 20, "admin"),
        (4, "unhide", 2, None, "platform_moderator"),
        (5, "hide", 2, None, None),
    ]
