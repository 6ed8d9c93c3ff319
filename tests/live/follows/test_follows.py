"""Follows and go-live notices (SQLite and PostgreSQL): a viewer follows a creator or a
shop, or asks to be reminded of a scheduled show; when the show goes live each of them gets
one notice in their inbox (never the creator, never twice), in the transaction that starts
it; unfollowing stops it; who may do what."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.notices.models import Notice
from tests.live.helpers import new_session, showcase_product
from tests.support import MakeActor, assert_problem


async def _notices(db: Database, kind: str = "live.started") -> list[tuple[int, str, str]]:
    async with db.session() as s:
        rows = (await s.scalars(select(Notice).where(Notice.kind == kind))).all()
        return sorted((n.user_id, n.subject, n.link) for n in rows)


async def test_followers_of_the_creator_and_the_shop_and_the_reminded_are_told_once(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    creator = await make_actor(Role.CREATOR, name="mia")
    product = await showcase_product(client, seller, "glow")
    show = await new_session(client, creator, [product["id"]])
    fan, shop_fan, reminded, everything, unfollowed, nobody = [await make_actor() for _ in range(6)]
    me = "/api/v1/me/follows"
    for who in (fan, everything, unfollowed):
        got = await client.put(f"{me}/creators/{creator.id}", headers=who.headers)
        assert got.status_code == 200 and got.json()["following"] is True
    again = await client.put(f"{me}/creators/{creator.id}", headers=fan.headers)
    assert again.json() == {"following": True, "followers": 3}  # a repeat changes nothing
    for who in (shop_fan, everything):
        shop_id = product["shop_id"]
        assert (await client.put(f"{me}/shops/{shop_id}", headers=who.headers)).status_code == 200
    for who in (reminded, everything):
        got = await client.put(f"/api/v1/live/sessions/{show['id']}/reminder", headers=who.headers)
        assert got.json() == {"session_id": show["id"], "reminded": True}
    gone = await client.delete(f"{me}/creators/{creator.id}", headers=unfollowed.headers)
    assert gone.json() == {"following": False, "followers": 2}
    mine = (await client.get(me, headers=everything.headers)).json()
    assert [c["creator_id"] for c in mine["creators"]] == [creator.id]
    assert [s["shop_id"] for s in mine["shops"]] == [product["shop_id"]]
    assert await _notices(db) == []

    started = await client.post(
        f"/api/v1/live/sessions/{show['id']}/start", headers=creator.headers
    )
    assert started.status_code == 200, started.text
    told = await _notices(db)
    assert [t[0] for t in told] == sorted([fan.id, shop_fan.id, reminded.id, everything.id])
    subject, link = told[0][1], told[0][2]
    assert subject.startswith("mia") and "is live: Friday glow-up" in subject
    assert link == f"/live/{show['id']}"
    assert nobody.id not in [t[0] for t in told]
    # A live show can no longer be reminded of.
    late = await client.put(f"/api/v1/live/sessions/{show['id']}/reminder", headers=nobody.headers)
    assert_problem(late, 409, "session-not-scheduled")


async def test_follow_rules(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor()
    me = "/api/v1/me/follows"
    assert_problem(await client.put(f"{me}/creators/{creator.id}"), 401)
    assert_problem(await client.get(me), 401)
    assert_problem(
        await client.put(f"{me}/creators/{creator.id}", headers=creator.headers), 422, "follow-self"
    )
    # Only creators can be followed as creators; unknown shops and shows are 404.
    assert_problem(
        await client.put(f"{me}/creators/{buyer.id}", headers=creator.headers),
        404,
        "creator-not-found",
    )
    assert_problem(await client.put(f"{me}/shops/999999", headers=buyer.headers), 404)
    assert_problem(
        await client.put("/api/v1/live/sessions/999999/reminder", headers=buyer.headers), 404
    )
