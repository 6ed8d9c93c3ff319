"""Two app instances (two uvicorn servers) sharing a real Redis serve one room."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.conftest import redis_broker_url
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, new_session, showcase_product
from tests.support import MakeActor


async def test_a_room_across_two_nodes(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    url = redis_broker_url(redis_url)
    node_a, node_b = live_app(db, broker_url=url), live_app(db, broker_url=url)
    base_a, base_b = await serve(node_a), await serve(node_b)
    async with httpx.AsyncClient(base_url=base_a.replace("ws://", "http://")) as http:
        creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
        product = await showcase_product(http, await make_actor(Role.SELLER), "glow")
        sid = (await new_session(http, creator, [product["id"]], start=True))["id"]

        on_b = await RoomClient.open(base_b, sid)
        talker = await RoomClient.open(base_a, sid, token=buyer.token)
        watcher_a = await RoomClient.open(base_a, sid)
        for c in (on_b, talker, watcher_a):
            await c.snapshot()

        # Viewer count is the sum over both nodes (2 on A, 1 on B), seen on both.
        await on_b.until("viewers", count=3)
        await watcher_a.until("viewers", count=3)

        # A comment sent on node A reaches a viewer on node B, with the same seq.
        await talker.send({"type": "comment", "text": "hello from A"})
        seen_b = await on_b.until("comment", text="hello from A")
        seen_a = await watcher_a.until("comment", text="hello from A")
        assert seen_a == seen_b

        # A pin made over HTTP on node A reaches node B too.
        pinned = await http.post(
            f"/api/v1/live/sessions/{sid}/pin",
            json={"product_id": product["id"]},
            headers=creator.headers,
        )
        assert pinned.status_code == 200, pinned.text
        assert (await on_b.until("pin"))["seq"] == pinned.json()["seq"]

        # Someone leaves node A: both nodes agree on 2.
        await talker.close()
        await on_b.until("viewers", count=2)
        await watcher_a.until("viewers", count=2)

        # Sequences agree event by event on both nodes, and neither has gaps.
        common = sorted(set(on_b.seqs()) & set(watcher_a.seqs()))
        assert common and common == list(range(common[0], common[-1] + 1))
        by_seq_b = {e["seq"]: e for e in on_b.events if "seq" in e}
        assert all(by_seq_b[e["seq"]] == e for e in watcher_a.events if e["seq"] in common)

        # A viewer reconnecting to the other node resumes where it left off.
        left_at = on_b.last_seq
        await on_b.close()
        creator_ws = await RoomClient.open(base_a, sid, token=creator.token)
        await creator_ws.snapshot()
        await creator_ws.send({"type": "comment", "text": "while you were away"})
        await watcher_a.until("comment", text="while you were away")
        back = await RoomClient.open(base_a, sid, since=left_at)
        replay = await back.frame()
        assert [e["seq"] for e in replay] == list(range(left_at + 1, left_at + 1 + len(replay)))
        assert "while you were away" in [e.get("text") for e in replay]
        for c in (back, creator_ws, watcher_a):
            await c.close()
