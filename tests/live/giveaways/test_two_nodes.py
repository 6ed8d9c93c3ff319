"""A giveaway and a poll in a room served by two nodes over Redis: entries on both nodes
reach the viewers on both as one growing count, the draw and a vote made on one node reach
the viewers on the other, and a viewer joining late finds them in their snapshot."""

from __future__ import annotations

import asyncio

from liveshop.core.db import Database
from tests.addresses.examples import address
from tests.conftest import redis_broker_url
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of
from tests.live.giveaways.test_giveaways import _room
from tests.live.helpers import RoomClient
from tests.support import MakeActor


async def test_entries_draw_and_votes_on_two_nodes(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    broker = redis_broker_url(redis_url)
    base_a = await serve(live_app(db, broker_url=broker))
    base_b = await serve(live_app(db, broker_url=broker))
    async with http_of(base_a) as a, http_of(base_b) as b:
        creator, live, sku_id = await _room(a, make_actor)
        viewers = [await RoomClient.open(base, live["id"]) for base in (base_a, base_b)]
        for v in viewers:
            await v.snapshot()
        opened = await a.post(
            f"/api/v1/live/sessions/{live['id']}/giveaways",
            json={"sku_id": sku_id},
            headers=creator.headers,
        )
        g = opened.json()
        people = [await make_actor() for _ in range(6)]
        for who in people:
            await a.post("/api/v1/me/addresses", json=address("GB"), headers=who.headers)
        entered = await asyncio.gather(
            *(
                (a, b)[i % 2].post(
                    f"/api/v1/live/giveaways/{g['giveaway_id']}/entries", headers=who.headers
                )
                for i, who in enumerate(people)
            )
        )
        assert [r.status_code for r in entered] == [201] * 6
        for v in viewers:
            await v.until("giveaway_entries", giveaway_id=g["giveaway_id"], entries=6)
        drawn = await b.post(
            f"/api/v1/live/giveaways/{g['giveaway_id']}/draw", headers=creator.headers
        )
        assert drawn.status_code == 200, drawn.text
        seen = [(await v.until("giveaway_drawn"))["giveaway"] for v in viewers]
        assert seen[0]["winner_entry"] == seen[1]["winner_entry"] == drawn.json()["winner_entry"]
        assert seen[0]["seed"] and seen[0]["winner_name"]

        poll = await b.post(
            f"/api/v1/live/sessions/{live['id']}/polls",
            json={"question": "Again?", "options": ["Yes", "No"]},
            headers=creator.headers,
        )
        for v in viewers:
            await v.until("poll_opened")
        vote = await a.post(
            f"/api/v1/live/polls/{poll.json()['poll_id']}/votes",
            json={"option": 0},
            headers=people[0].headers,
        )
        assert vote.status_code == 201
        for v in viewers:
            assert (await v.until("poll_votes"))["counts"] == [1, 0]
        late = await RoomClient.open(base_b, live["id"])
        snap = await late.snapshot()
        assert snap["giveaway"]["status"] == "drawn" and snap["giveaway"]["entries"] == 6
        assert snap["poll"]["question"] == "Again?"
        for v in (*viewers, late):
            await v.close()
