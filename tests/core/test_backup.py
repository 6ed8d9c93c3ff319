"""``liveshop db backup`` / ``restore``: a backup restored into a fresh database has every
order, and its ledger balances (the same balances, account by account), on SQLite and
PostgreSQL; a file that is not a backup is refused before anything is replaced."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.audit.models import AuditEntry
from liveshop.core import backup
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.orders.models import Order
from tests.conftest import _pg_admin
from tests.shopfront import MakeShopfront, buy
from tests.support import MakeActor


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIVESHOP_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "liveshop.cli", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def empty_url(db: Database, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema) on the same engine as ``db``."""
    if db.dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    admin_url = os.environ["LIVESHOP_TEST_POSTGRES_URL"]
    name = f"liveshop_r_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _contents(db: Database) -> dict[str, Any]:
    async with db.session(deferred=True) as s:
        orders = (await s.execute(select(Order.id, Order.status, Order.total_minor))).all()
        return {
            "orders": sorted(tuple(o) for o in orders),
            "balances": await ledger.balances(s),
            "trial": await ledger.trial_balance(s),
            "audit": len((await s.scalars(select(AuditEntry.id))).all()),
        }


async def test_a_restored_backup_has_every_order_and_a_balanced_ledger(
    client: httpx.AsyncClient,
    db: Database,
    db_url: str,
    empty_url: str,
    tmp_path: Path,
    make_actor: MakeActor,
    make_shopfront: MakeShopfront,
) -> None:
    shop = await make_shopfront()
    buyer = await make_actor(Role.BUYER)
    paid = [await buy(client, buyer, shop.sku_id, quantity=n) for n in (1, 2, 3)]
    await buy(client, buyer, shop.other_sku_id, pay=False)  # pending, stock held
    refund = await client.post(
        f"/api/v1/orders/{paid[1]['id']}/refunds",
        json={"lines": [{"line_id": paid[1]["lines"][0]["id"], "quantity": 1}]},
        headers=shop.seller.headers,
    )
    assert refund.status_code == 200, refund.text
    before = await _contents(db)
    assert len(before["orders"]) == 4 and before["trial"] == {"GBP": 0} and before["audit"] == 1

    path = tmp_path / "liveshop.backup"
    made = await asyncio.to_thread(_cli, db_url, "backup", str(path))
    assert made.returncode == 0, made.stdout + made.stderr
    assert "backed up" in made.stdout + made.stderr and path.stat().st_size > 0
    restored = await asyncio.to_thread(_cli, empty_url, "restore", "--yes", str(path))
    assert restored.returncode == 0, restored.stdout + restored.stderr

    fresh = Database(empty_url)
    try:
        assert await _contents(fresh) == before
    finally:
        await fresh.dispose()


async def test_a_file_that_is_not_a_backup_is_refused(
    db: Database, empty_url: str, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all" * 100)
    with pytest.raises(backup.BackupError, match="not a liveshop"):
        await asyncio.to_thread(backup.restore, empty_url, junk)
    with pytest.raises(backup.BackupError, match="does not exist"):
        await asyncio.to_thread(backup.restore, empty_url, tmp_path / "missing")
