"""The studio's live figures re-read the creator's statement only when it can have changed
(the show's orders, GMV or status moved, or the cache's age is up), not every few seconds."""

from __future__ import annotations

from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.analytics.dashboard import EarningsCache, figures
from liveshop.core.db import Database
from liveshop.live.models import LiveSession
from tests.shopfront import start_session
from tests.support import MakeActor


async def test_the_statement_is_read_again_only_when_it_can_have_changed(
    db: Database, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR)
    sid = await start_session(db, creator.id)
    now = [1000.0]
    cache = EarningsCache(max_age_s=30, clock=lambda: now[0])

    async def ask() -> dict[str, object]:
        async with db.session() as s:
            got = await figures(s, sid, cache)
            fresh = await figures(s, sid)  # uncached: the same figures
            await s.rollback()
        assert got["earnings_minor"] == fresh["earnings_minor"]
        assert got["earnings_per_hour_minor"] == fresh["earnings_per_hour_minor"]
        return got

    await ask()
    await ask()
    assert (cache.reads, cache.hits) == (1, 1)
    async with db.session() as s:  # a sale: the show's counters move
        await s.execute(
            update(LiveSession)
            .where(LiveSession.id == sid)
            .values(orders_count=LiveSession.orders_count + 1, gmv_minor=1899)
        )
        await s.commit()
    await ask()
    assert (cache.reads, cache.hits) == (2, 1)
    now[0] += 31  # too old
    await ask()
    assert (cache.reads, cache.hits) == (3, 1)
