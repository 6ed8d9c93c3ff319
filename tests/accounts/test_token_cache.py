"""The node's token cache: a revocation takes effect within ``ttl_s`` of its commit, even when
the read that filled the cache was slow (a loaded machine)."""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy import update

from liveshop.accounts import token_cache
from liveshop.accounts.models import AuthToken, Role
from liveshop.accounts.service import hash_token
from liveshop.accounts.token_cache import TokenCache
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from tests.support import MakeActor


class _GatedDb:
    """The real database, whose sessions open only when the test says so: a read that
    starts now and ends whenever the test chooses."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reading = asyncio.Event()
        self.go = asyncio.Event()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        self.reading.set()
        await self.go.wait()
        async with self.db.session() as session:
            yield session


async def _revoke(db: Database, token: str) -> None:
    async with db.session() as s:
        await s.execute(
            update(AuthToken)
            .where(AuthToken.token_hash == hash_token(token))
            .values(revoked_at=utcnow())
        )
        await s.commit()


async def test_an_answer_is_as_old_as_its_read_s_start(
    db: Database, make_actor: MakeActor, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(token_cache, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    buyer = await make_actor(Role.BUYER)
    gated = _GatedDb(db)
    cache = TokenCache(cast(Database, gated), ttl_s=1.0)
    try:
        asking = asyncio.create_task(cache.principal(buyer.token))
        await gated.reading.wait()  # the read starts at 100.0 …
        now[0] = 100.8  # … and the machine is slow: it ends at 100.8
        gated.go.set()
        first = await asking
        assert first is not None and first.user_id == buyer.id
        assert cache.reads == 1

        await _revoke(db, buyer.token)
        now[0] = 100.9  # within the second of the read's start: the node still knows it
        assert await cache.principal(buyer.token) is not None
        assert cache.reads == 1
        now[0] = 101.05  # past it (stamped at the read's end it would last until 101.8)
        assert await cache.principal(buyer.token) is None
        assert cache.reads == 2
    finally:
        await cache.close()
