"""Revision 0016 (the sandbox's charge record, ``reservations.paying``) up and back down — on
SQLite and PostgreSQL, each on a database of its own."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.core.migrate import downgrade, upgrade


async def _state(url: str) -> tuple[bool, set[str]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:

        def inspect(sync: Any) -> tuple[bool, set[str]]:
            found = sa.inspect(sync)
            columns = {c["name"] for c in found.get_columns("reservations")}
            return "sandbox_charges" in found.get_table_names(), columns

        state = await conn.run_sync(inspect)
    await engine.dispose()
    return state


def test_up_and_back_down(fresh_url: str) -> None:
    upgrade(fresh_url, "0015")
    table, columns = asyncio.run(_state(fresh_url))
    assert not table and "paying" not in columns
    upgrade(fresh_url, "0016")
    table, columns = asyncio.run(_state(fresh_url))
    assert table and "paying" in columns

    downgrade(fresh_url, "0015")
    table, columns = asyncio.run(_state(fresh_url))
    assert not table and "paying" not in columns

    upgrade(fresh_url)
    table, columns = asyncio.run(_state(fresh_url))
    assert table and "paying" in columns
