"""Revision 0015 (a flash deal's per-buyer limit and each buyer's units) on a database that
already has a flash deal, and back down — on SQLite and PostgreSQL, each on a database of its
own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from liveshop.core.migrate import downgrade, upgrade
from tests.chat.test_moderation_log_migration import T0, _before


def _at(url: str) -> Any:
    return T0.replace(tzinfo=None) if url.startswith("sqlite") else T0


async def _no_foreign_keys(conn: AsyncConnection) -> None:
    """The old deal's SKU is not built here (a deal's rows are what this revision touches)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))


async def _an_old_deal(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await _no_foreign_keys(conn)
        await conn.execute(
            sa.text(
                "INSERT INTO flash_deals (id, session_id, product_id, sku_id, price_minor, "
                "regular_price_minor, currency, units, sold, status, starts_at, ends_at) "
                "VALUES (1, 1, 7, 7, 999, 1899, 'GBP', 5, 0, 'active', :at, :at)"
            ),
            {"at": _at(url)},
        )
    await engine.dispose()


async def _state(url: str) -> tuple[bool, set[str], list[Any]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:

        def inspect(sync: Any) -> tuple[bool, set[str]]:
            found = sa.inspect(sync)
            columns = {c["name"] for c in found.get_columns("flash_deals")}
            return "flash_deal_buyers" in found.get_table_names(), columns

        table, columns = await conn.run_sync(inspect)
        rows = await conn.execute(sa.text("SELECT id, units FROM flash_deals ORDER BY id"))
        out = [tuple(r) for r in rows.all()]
    await engine.dispose()
    return table, columns, out


async def _use_the_limit(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        limit = await conn.scalar(sa.text("SELECT per_buyer_limit FROM flash_deals WHERE id = 1"))
        assert limit is None  # an old deal has no limit
        await conn.execute(sa.text("UPDATE flash_deals SET per_buyer_limit = 2 WHERE id = 1"))
        await conn.execute(
            sa.text("INSERT INTO flash_deal_buyers (deal_id, buyer_id, units) VALUES (1, 2, 2)")
        )
    for bad in (
        "UPDATE flash_deals SET per_buyer_limit = 6 WHERE id = 1",  # above the deal's 5 units
        "UPDATE flash_deals SET per_buyer_limit = 0 WHERE id = 1",
        "UPDATE flash_deal_buyers SET units = -1",
        "INSERT INTO flash_deal_buyers (deal_id, buyer_id, units) VALUES (1, 2, 1)",  # twice
    ):
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.text(bad))
    await engine.dispose()


def test_up_with_a_deal_and_back_down(fresh_url: str) -> None:
    upgrade(fresh_url, "0014")
    asyncio.run(_before(fresh_url))
    asyncio.run(_an_old_deal(fresh_url))
    upgrade(fresh_url, "0015")
    table, columns, rows = asyncio.run(_state(fresh_url))
    assert table and "per_buyer_limit" in columns and rows == [(1, 5)]
    asyncio.run(_use_the_limit(fresh_url))

    downgrade(fresh_url, "0014")
    table, columns, rows = asyncio.run(_state(fresh_url))
    assert not table and "per_buyer_limit" not in columns
    assert rows == [(1, 5)]  # the deal stays

    upgrade(fresh_url)
    table, columns, rows = asyncio.run(_state(fresh_url))
    assert table and "per_buyer_limit" in columns and rows == [(1, 5)]
