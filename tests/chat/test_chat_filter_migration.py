"""Revision 0014 (the comment filter's tables and the log's filter columns) on a database that
already has moderation log entries, and back down — on SQLite and PostgreSQL, each on a
database of its own."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.core.migrate import alembic_config, downgrade, upgrade
from tests.chat.test_moderation_log_migration import T0, _before

TABLES = {
    "chat_blocked_terms",
    "chat_platform_blocked_terms",
    "chat_filter_settings",
    "chat_platform_filter_settings",
}


def _previous() -> str:
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision("0014")
    assert revision is not None and isinstance(revision.down_revision, str)
    return revision.down_revision


async def _use_the_filter(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO chat_blocked_terms (id, creator_id, term, created_by, created_at) "
                "VALUES (1, 1, 'scam', 1, :at)"
            ),
            {"at": T0.replace(tzinfo=None) if url.startswith("sqlite") else T0},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO chat_platform_blocked_terms (id, term, created_at) "
                "VALUES (1, 'fraud', :at)"
            ),
            {"at": T0.replace(tzinfo=None) if url.startswith("sqlite") else T0},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO chat_moderation_log (id, session_id, actor_id, action, comment_id, "
                "target_user_id, created_at, actor_role, filter_rule, filter_match) "
                "VALUES (6, 1, NULL, 'hide', 10, 2, :at, 'filter', 'creator_term', 'scam')"
            ),
            {"at": T0.replace(tzinfo=None) if url.startswith("sqlite") else T0},
        )
    await engine.dispose()


async def _state(url: str) -> tuple[set[str], list[Any], set[str]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:

        def inspect(sync: Any) -> tuple[set[str], set[str]]:
            found = sa.inspect(sync)
            columns = {c["name"] for c in found.get_columns("chat_moderation_log")}
            return set(found.get_table_names()) & TABLES, columns

        tables, columns = await conn.run_sync(inspect)
        rows = await conn.execute(sa.text("SELECT id, action FROM chat_moderation_log ORDER BY id"))
        out = [tuple(r) for r in rows.all()]
    await engine.dispose()
    return tables, out, columns


def test_up_with_log_entries_and_back_down(fresh_url: str) -> None:
    previous = _previous()
    upgrade(fresh_url, previous)
    asyncio.run(_before(fresh_url))
    upgrade(fresh_url, "0014")
    asyncio.run(_use_the_filter(fresh_url))
    tables, rows, columns = asyncio.run(_state(fresh_url))
    assert tables == TABLES and {"filter_rule", "filter_match"} <= columns
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]

    downgrade(fresh_url, previous)
    tables, rows, columns = asyncio.run(_state(fresh_url))
    assert tables == set() and not {"filter_rule", "filter_match"} & columns
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]  # the log's entries stay

    upgrade(fresh_url)
    tables, rows, _ = asyncio.run(_state(fresh_url))
    assert tables == TABLES and len(rows) == 6
