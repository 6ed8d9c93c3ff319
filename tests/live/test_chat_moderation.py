"""Chat moderation in the room over real WebSockets: a hidden comment leaves every viewer's
chat, fresh snapshots and catch-up replays; a muted viewer's comment is refused with an
error frame and reaches nobody — on one node and across two nodes sharing Redis."""

from __future__ import annotations

import json
from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.events import dumps
from liveshop.realtime.state import Ev, RoomState
from tests.conftest import redis_broker_url
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, eventually, new_session
from tests.support import Actor, MakeActor


def _texts(client: RoomClient) -> list[Any]:
    return [e.get("text") for e in client.events if e.get("type") == "comment"]


async def _mute(http: httpx.AsyncClient, sid: int, host: Actor, user: Actor) -> None:
    body = {"user_id": user.id, "duration_minutes": 10, "reason": "spam"}
    resp = await http.post(f"/api/v1/live/sessions/{sid}/mutes", json=body, headers=host.headers)
    assert resp.status_code == 201, resp.text


async def test_hide_and_mute_in_a_room(db: Database, serve: Serve, make_actor: MakeActor) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
        sid = int((await new_session(http, creator, [], start=True))["id"])
        talker = await RoomClient.open(base, sid, token=buyer.token)
        watcher = await RoomClient.open(base, sid)
        host = await RoomClient.open(base, sid, token=creator.token)
        for c in (talker, watcher, host):
            await c.snapshot()
        before = watcher.last_seq

        await talker.send({"type": "comment", "text": "visit spam.example"})
        await talker.send({"type": "comment", "text": "love it"})
        spam = await watcher.until("comment", text="visit spam.example")
        await watcher.until("comment", text="love it")

        hid = await http.post(
            f"/api/v1/live/sessions/{sid}/comments/{spam['id']}/hide", headers=creator.headers
        )
        assert hid.status_code == 200, hid.text
        for c in (watcher, talker):
            gone = await c.until("comment_hidden")
            assert gone["ids"] == [spam["id"]] and gone["seq"] == hid.json()["seq"]

        # A fresh join's snapshot leaves it out; a replay from before it carries its removal
        # in its place (same seq: no gap), never its text.
        fresh = await RoomClient.open(base, sid)
        snap = await fresh.snapshot()
        assert [c["text"] for c in snap["comments"]] == ["love it"]
        back = await RoomClient.open(base, sid, since=before)
        replay = await back.frame()
        assert [e["seq"] for e in replay] == list(range(before + 1, before + 1 + len(replay)))
        assert "visit spam.example" not in [e.get("text") for e in replay]
        assert {"seq": spam["seq"], "type": "comment_hidden", "ids": [spam["id"]]}.items() <= (
            replay[[e["seq"] for e in replay].index(spam["seq"])].items()
        )

        # Muted: the comment is refused with an error frame (the socket stays open) and
        # reaches nobody; the host still talks.
        await _mute(http, sid, creator, buyer)
        await talker.send({"type": "comment", "text": "let me talk"})
        refused = await talker.until("error", code="muted")
        assert refused["until"] and "muted" in refused["detail"]
        await host.send({"type": "comment", "text": "welcome all"})
        for c in (watcher, talker, fresh):
            await c.until("comment", text="welcome all")
            assert "let me talk" not in _texts(c)

        # Unmuted: the same socket may talk again (the node's cache heard of it).
        lifted = await http.delete(
            f"/api/v1/live/sessions/{sid}/mutes/{buyer.id}", headers=creator.headers
        )
        assert lifted.status_code == 204
        await talker.send({"type": "comment", "text": "thanks"})
        await watcher.until("comment", text="thanks")
        for c in (talker, watcher, host, fresh, back):
            await c.close()


async def test_a_mute_on_one_node_holds_on_the_other(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    url = redis_broker_url(redis_url)
    node_b = live_app(db, broker_url=url)
    base_a, base_b = await serve(live_app(db, broker_url=url)), await serve(node_b)
    async with httpx.AsyncClient(base_url=base_a.replace("ws://", "http://")) as http:
        creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
        sid = int((await new_session(http, creator, [], start=True))["id"])
        talker = await RoomClient.open(base_b, sid, token=buyer.token)
        watcher = await RoomClient.open(base_a, sid)
        for c in (talker, watcher):
            await c.snapshot()
        await talker.send({"type": "comment", "text": "hi from B"})  # B's cache is loaded
        await watcher.until("comment", text="hi from B")

        await _mute(http, sid, creator, buyer)  # over HTTP on node A
        mutes = node_b.state.chat.mutes

        async def b_knows() -> bool:  # B's cached answer changes once the news arrives
            return await mutes.check(creator.id, buyer.id) is not None

        await eventually(b_knows, within=5)
        await talker.send({"type": "comment", "text": "still here"})
        assert (await talker.until("error"))["code"] == "muted"
        await talker.send({"type": "like"})
        await watcher.until("like")  # the muted viewer's socket still works
        assert "still here" not in _texts(watcher)
        for c in (talker, watcher):
            await c.close()


def test_room_state_hides_and_shows_comments_in_place() -> None:
    state = RoomState(session={"id": 1}, comments_kept=3)
    seq = 0

    def apply(kind: str, **data: Any) -> None:
        nonlocal seq
        seq += 1
        body = {"seq": seq, "type": kind, **data}
        state.apply(Ev(dumps(body), body))

    def ids() -> list[int]:
        return [c["id"] for c in json.loads(state.snapshot())["comments"]]

    for cid in (10, 11, 12):
        apply("comment", id=cid, user={"id": 7, "name": "Ann"}, text=f"line {cid}")
    apply("comment_hidden", ids=[11])
    assert ids() == [10, 12]
    apply("comment", id=11, user={"id": 7, "name": "Ann"}, text="late copy")  # stays out
    assert ids() == [10, 12]
    apply("comment_shown", id=11, user={"id": 7, "name": "Ann"}, text="line 11", host=False)
    assert ids() == [10, 11, 12]  # back in its place
    apply("comment", id=13, user={"id": 7, "name": "Ann"}, text="line 13")
    apply("comment_hidden", ids=[10])
    apply("comment_shown", id=10, user={"id": 7, "name": "Ann"}, text="line 10", host=False)
    assert ids() == [11, 12, 13]  # older than every line kept: not squeezed in
    assert 10 not in state.hidden
