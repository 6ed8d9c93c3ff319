"""The room over real WebSockets (uvicorn in-process): snapshot, order, resume, controls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.realtime.hub import Hub
from liveshop.realtime.wire import DirectConn
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem


@dataclass
class Stage:
    """A live session on a running server, with its creator and a buyer."""

    base: str
    http: httpx.AsyncClient
    hub: Hub
    seller: Actor
    creator: Actor
    buyer: Actor
    session: dict[str, Any]
    product: dict[str, Any]

    @property
    def sid(self) -> int:
        return int(self.session["id"])

    async def viewer(self, actor: Actor | None = None, since: int | None = None) -> RoomClient:
        token = actor.token if actor else None
        return await RoomClient.open(self.base, self.sid, token=token, since=since)


@pytest.fixture
async def stage(db: Database, serve: Serve, make_actor: MakeActor) -> AsyncIterator[Stage]:
    app = live_app(db)
    base = await serve(app)
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        seller = await make_actor(Role.SELLER)
        creator = await make_actor(Role.CREATOR)
        buyer = await make_actor(Role.BUYER)
        product = await showcase_product(http, seller, "glow")
        session = await new_session(http, creator, [product["id"]], start=True)
        yield Stage(base, http, app.state.hub, seller, creator, buyer, session, product)


async def test_snapshot_on_join_has_session_pin_and_comments(stage: Stage) -> None:
    sku_id = stage.product["skus"][0]["id"]
    received = await stage.http.post(
        f"/api/v1/skus/{sku_id}/stock/receive", json={"quantity": 25}, headers=stage.seller.headers
    )
    assert received.status_code == 200, received.text
    pin = await stage.http.post(
        f"/api/v1/live/sessions/{stage.sid}/pin",
        json={"product_id": stage.product["id"]},
        headers=stage.creator.headers,
    )
    assert pin.status_code == 200, pin.text
    buyer = await stage.viewer(stage.buyer)
    first = await buyer.snapshot()
    await buyer.send({"type": "comment", "text": "hello room"})
    await buyer.until("comment", text="hello room")

    anon = await stage.viewer()
    snap = await anon.snapshot()
    # Under uvicorn every socket is written directly (pre-built frames, no per-viewer task).
    conns = [c for room in stage.hub.rooms.values() for c in room.conns]
    assert len(conns) == 2 and all(isinstance(c, DirectConn) for c in conns)
    assert snap["session"]["status"] == "live"
    assert snap["session"]["currency"] == "GBP"
    assert snap["pinned"]["product_id"] == stage.product["id"]
    assert snap["pinned"]["currency"] == "GBP"
    assert snap["pinned"]["skus"][0]["price_minor"] == 1899
    assert snap["pinned"]["skus"][0]["price_display"] == "£18.99"
    assert snap["pinned"]["skus"][0]["available"] == 25  # live stock from inventory
    assert snap["deal"] is None
    assert [c["text"] for c in snap["comments"]] == ["hello room"]
    assert snap["comments"][0]["user"]["id"] == stage.buyer.id
    assert snap["seq"] > first["seq"]
    await anon.close()
    await buyer.close()


async def test_events_arrive_in_order_without_gaps(stage: Stage, make_actor: MakeActor) -> None:
    watcher = await stage.viewer()
    start = (await watcher.snapshot())["seq"]
    talkers = [await stage.viewer(await make_actor(Role.BUYER)) for _ in range(3)]
    for t in talkers:
        await t.snapshot()
    for round_ in range(4):
        for i, t in enumerate(talkers):
            await t.send({"type": "comment", "text": f"r{round_} t{i}"})
    await watcher.count("comment", 12)
    seqs = watcher.seqs()
    assert seqs == list(range(start + 1, start + 1 + len(seqs)))  # gapless, increasing
    texts = [e["text"] for e in watcher.events if e["type"] == "comment"]
    assert sorted(texts) == sorted(f"r{r} t{i}" for r in range(4) for i in range(3))
    for t in talkers:
        await t.close()
    await watcher.close()


async def test_reconnect_with_since_recovers_missed_events(stage: Stage) -> None:
    buyer = await stage.viewer(stage.buyer)
    await buyer.snapshot()
    await buyer.send({"type": "comment", "text": "before"})
    await buyer.until("comment", text="before")
    left_at = buyer.last_seq
    await buyer.close()

    other = await stage.viewer(stage.creator)
    await other.snapshot()
    for n in range(3):
        await other.send({"type": "comment", "text": f"missed {n}"})
    await other.until("comment", text="missed 2")

    back = await stage.viewer(stage.buyer, since=left_at)
    replay = await back.frame()
    assert isinstance(replay, list)
    assert [e["seq"] for e in replay] == list(range(left_at + 1, left_at + 1 + len(replay)))
    assert [e["text"] for e in replay if e["type"] == "comment"] == [
        "missed 0",
        "missed 1",
        "missed 2",
    ]
    # Live again: the next event continues the sequence.
    await other.send({"type": "comment", "text": "after"})
    after = await back.until("comment", text="after")
    assert after["seq"] == replay[-1]["seq"] + 1 or back.seqs()[-1] == after["seq"]
    assert back.seqs() == list(range(left_at + 1, back.last_seq + 1))

    # The same through a resume frame on an open socket (the client drops what it has).
    await back.send({"type": "resume", "seq": left_at})
    again = json.loads(await asyncio.wait_for(back.ws.recv(), 10))
    seqs = [e["seq"] for e in again]
    assert seqs == list(range(left_at + 1, left_at + 1 + len(seqs)))
    assert seqs[-1] >= back.last_seq
    await back.close()
    await other.close()


async def test_too_far_behind_gets_a_fresh_snapshot(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db, history_size=3)
    base = await serve(app)
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        product = await showcase_product(http, await make_actor(Role.SELLER), "far")
        creator = await make_actor(Role.CREATOR)
        session = await new_session(http, creator, [product["id"]], start=True)
        talker = await RoomClient.open(base, session["id"], token=creator.token)
        await talker.snapshot()
        for n in range(5):  # within the comment burst
            await talker.send({"type": "comment", "text": f"c{n}"})
        await talker.until("comment", text="c4")
        late = await RoomClient.open(base, session["id"], since=1)
        snap = await late.snapshot()
        assert snap["seq"] == talker.last_seq
        assert [c["text"] for c in snap["comments"]][-5:] == [f"c{n}" for n in range(5)]
        await late.close()
        await talker.close()


async def test_pin_reaches_viewers_and_only_hosts_may_pin(
    stage: Stage, make_actor: MakeActor
) -> None:
    viewer = await stage.viewer()
    await viewer.snapshot()
    url = f"/api/v1/live/sessions/{stage.sid}"
    body = {"product_id": stage.product["id"]}
    assert_problem(await stage.http.post(f"{url}/pin", json=body), 401)
    refused = await stage.http.post(f"{url}/pin", json=body, headers=stage.buyer.headers)
    assert_problem(refused, 403, "not-room-host")
    other_creator = await make_actor(Role.CREATOR)
    refused = await stage.http.post(f"{url}/pin", json=body, headers=other_creator.headers)
    assert_problem(refused, 403, "not-room-host")

    moderator = await make_actor(Role.BUYER)
    added = await stage.http.post(
        "/api/v1/live/moderators", json={"user_id": moderator.id}, headers=stage.creator.headers
    )
    assert added.status_code == 201, added.text
    pinned = await stage.http.post(f"{url}/pin", json=body, headers=moderator.headers)
    assert pinned.status_code == 200, pinned.text
    event = await viewer.until("pin")
    assert event["seq"] == pinned.json()["seq"]
    assert event["product"]["product_id"] == stage.product["id"]
    assert event["product"]["skus"][0]["price_minor"] == 1899

    unpinned = await stage.http.post(f"{url}/unpin", headers=stage.creator.headers)
    assert unpinned.status_code == 200
    assert (await viewer.until("pin", product=None))["seq"] == unpinned.json()["seq"]
    await viewer.close()


async def test_commerce_events_go_through_the_hub(stage: Stage) -> None:
    """deal_started / stock / deal_ended / purchase: published via the hub's publisher."""
    from datetime import timedelta

    from liveshop.core.clock import utcnow

    viewer = await stage.viewer()
    await viewer.snapshot()
    pub = stage.hub.publisher
    sku_id = stage.product["skus"][0]["id"]
    await pub.deal_started(
        stage.sid,
        deal_id=7,
        product_id=stage.product["id"],
        sku_id=sku_id,
        price_minor=999,
        currency="GBP",
        units=20,
        ends_at=utcnow() + timedelta(minutes=5),
    )
    for left in range(20, -1, -1):
        await pub.stock(stage.sid, sku_id=sku_id, available=left, deal_id=7)
    await pub.purchase(stage.sid, product_id=stage.product["id"], title="Serum", city="Leeds")
    await pub.deal_ended(stage.sid, deal_id=7, reason="sold_out", sold=20)

    started = await viewer.until("deal_started")
    assert started["deal"]["units"] == 20 and started["deal"]["price_minor"] == 999
    ticker = await viewer.until("purchase")
    assert ticker["text"] == "Someone in Leeds just bought Serum"
    # The words each viewer reads are built in their page from these (issue 21); no name.
    assert set(ticker) == {"seq", "type", "ts", "product_id", "quantity", "text", "title", "city"}
    await viewer.until("deal_ended", deal_id=7)
    stocks = [e for e in viewer.events if e["type"] == "stock"]
    assert stocks and stocks[-1]["available"] == 0  # coalesced, but the last word is the truth

    late = await stage.viewer()
    snap = await late.snapshot()
    assert snap["deal"] is None  # ended
    await late.close()
    await viewer.close()


async def test_comments_need_sign_in_and_a_live_session(stage: Stage) -> None:
    anon = await stage.viewer()
    await anon.snapshot()
    await anon.send({"type": "comment", "text": "hi"})
    assert (await anon.until("error"))["code"] == "sign-in-required"
    await anon.close()


async def test_bad_frames_get_errors_and_never_break_the_room(stage: Stage) -> None:
    watcher = await stage.viewer()
    await watcher.snapshot()
    rogue = await stage.viewer(stage.buyer)
    await rogue.snapshot()
    await rogue.send("this is not json")
    assert (await rogue.until("error"))["code"] == "bad-json"
    await rogue.send({"type": "teleport"})
    assert (await rogue.until("error", code="unknown-type"))["code"] == "unknown-type"
    await rogue.send(b"\x00\x01")
    assert (await rogue.until("error", code="text-only"))["code"] == "text-only"
    await rogue.send({"type": "resume", "seq": "yesterday"})
    await rogue.until("error", code="bad-resume")
    await rogue.send({"type": "comment", "text": "x" * 301})
    await rogue.until("error", code="comment-too-long")
    await rogue.send("[" * 4000)
    await rogue.until("error", code="bad-json")
    await rogue.send(json.dumps({"type": "comment", "text": "y" * 5000}))
    assert await rogue.closed() == (1009, "frames are limited to 4096 bytes")

    # The room carries on for everyone else.
    creator = await stage.viewer(stage.creator)
    await creator.snapshot()
    await creator.send({"type": "comment", "text": "still here"})
    await watcher.until("comment", text="still here")
    await creator.close()
    await watcher.close()


async def test_too_many_bad_frames_close_the_socket(stage: Stage) -> None:
    rogue = await stage.viewer()
    await rogue.snapshot()
    for _ in range(stage.hub.config.bad_frame_limit):
        await rogue.send("{")
    assert await rogue.closed() == (1008, "too many malformed frames")


async def test_comment_flood_is_refused_then_closed(stage: Stage) -> None:
    c = stage.hub.config
    flooder = await stage.viewer(stage.buyer)
    await flooder.snapshot()
    for n in range(c.comment_burst + c.flood_strikes):
        await flooder.send({"type": "comment", "text": f"spam {n}"})
    code, reason = await flooder.closed()
    assert (code, reason) == (1008, "comment flood")
    errors = [o for o in flooder.objects if o.get("type") == "error"]
    assert [e["code"] for e in errors] == ["rate-limited"] * (c.flood_strikes - 1)
    delivered = [e["text"] for e in flooder.events if e["type"] == "comment"]
    assert len(delivered) <= c.comment_burst + 1


async def test_unknown_session_and_bad_token_close_with_clear_codes(stage: Stage) -> None:
    nobody = await RoomClient.open(stage.base, 999_999)
    assert (await nobody.until("error"))["code"] == "live-session-not-found"
    assert (await nobody.closed())[0] == 4404
    forged = await RoomClient.open(stage.base, stage.sid, token="lsk_forged")
    assert (await forged.until("error"))["code"] == "invalid-token"
    assert (await forged.closed())[0] == 4401


async def test_ending_the_session_tells_everyone_and_closes(stage: Stage) -> None:
    viewer = await stage.viewer()
    await viewer.snapshot()
    await viewer.send({"type": "like"})
    await viewer.send({"type": "like"})
    await viewer.until("like", count=2)
    ended = await stage.http.post(
        f"/api/v1/live/sessions/{stage.sid}/end", headers=stage.creator.headers
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["likes"] == 2
    assert ended.json()["peak_viewers"] >= 1
    event = await viewer.until("session_ended")
    assert event["status"] == "ended"
    assert await viewer.closed() == (1000, "session ended")
    late = await stage.viewer()
    assert (await late.snapshot())["session"]["status"] == "ended"
    assert (await late.closed())[0] == 1000
