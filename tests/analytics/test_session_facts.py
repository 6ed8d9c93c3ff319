"""A show's market and creator, remembered per database: a process that serves one database
after another (the test suite does) never labels events with another database's show."""

from __future__ import annotations

from liveshop.accounts.models import Role
from liveshop.analytics.wiring import session_facts
from liveshop.core.db import Database
from tests.conftest import _sqlite_copy
from tests.shopfront import new_user, start_session


async def test_the_same_show_id_in_another_database_is_another_show(
    db: Database, sqlite_url: str
) -> None:
    async with db.session() as s:
        creator_id = await new_user(s, "host@example.com", Role.CREATOR)
        await s.commit()
    show = await start_session(db, creator_id, market="VN")
    async with db.session() as s:
        here = await session_facts(s, show)
    assert (here.market_code, here.creator_id) == ("VN", creator_id)

    for url in _sqlite_copy(sqlite_url):  # an empty database: no show has that id there
        other = Database(url)
        try:
            async with other.session() as s:
                there = await session_facts(s, show)
        finally:
            await other.dispose()
    assert (there.session_id, there.market_code, there.creator_id) == (show, None, None)
