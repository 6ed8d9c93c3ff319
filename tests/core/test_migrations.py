"""Migrations build an empty database on both engines and match the models exactly."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.core.db import Base
from liveshop.core.migrate import downgrade, upgrade


def _diff(url: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(run())


def test_schema_matches_models(db_url: str) -> None:
    # db_url's database was built by `alembic upgrade head` from empty.
    assert _diff(db_url) == []


def test_downgrade_to_base_and_up_again(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
    assert _diff(url) == []
