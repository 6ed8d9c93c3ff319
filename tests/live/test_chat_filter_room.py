"""Automatic comment filtering in the room over real WebSockets: a comment with a blocked
term (or a link, while links are held) reaches its author as if sent and no other viewer —
not live, not in snapshots, not in replays; it is stored hidden and logged as the filter's
hide, and Unhide from the moderation log shows it to the room. The room's hosts see held
lines live, marked (not complaints), and hear of reports at once (``reports``). On one
node, and across two nodes sharing Redis (the other node's filter cache hears of the new
term)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.events import dumps
from liveshop.live.models import LiveComment, LiveSession
from liveshop.realtime.state import Ev, RoomState
from tests.conftest import redis_broker_url
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, eventually, new_session
from tests.support import Actor, MakeActor

FILTER = "/api/v1/live/chat-filter"


def _texts(client: RoomClient) -> list[Any]:
    return [e.get("text") for e in client.events if e.get("type") == "comment"]


async def _block(http: httpx.AsyncClient, creator: Actor, *terms: str) -> None:
    resp = await http.post(
        f"{FILTER}/creators/{creator.id}/terms",
        json={"terms": list(terms)},
        headers=creator.headers,
    )
    assert resp.status_code == 201, resp.text


async def _log(http: httpx.AsyncClient, creator: Actor, sid: int) -> list[dict[str, Any]]:
    resp = await http.get(f"/api/v1/live/sessions/{sid}/moderation-log", headers=creator.headers)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_a_held_comment_reaches_its_author_only_and_unhide_shows_it(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator = await make_actor(Role.CREATOR)
        buyer, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        sid = int((await new_session(http, creator, [], start=True))["id"])
        await _block(http, creator, "scam")
        talker = await RoomClient.open(base, sid, token=buyer.token)
        second_tab = await RoomClient.open(base, sid, token=buyer.token)  # the author again
        watcher = await RoomClient.open(base, sid, token=other.token)
        anonymous = await RoomClient.open(base, sid)
        host = await RoomClient.open(base, sid, token=creator.token)
        for c in (talker, second_tab, watcher, anonymous, host):
            await c.snapshot()
        before = watcher.last_seq

        await talker.send({"type": "comment", "text": "total SCAM, avoid"})
        mine = await talker.until("comment", text="total SCAM, avoid")
        assert "held" not in mine  # to its author it is an ordinary comment
        assert (await second_tab.until("comment", text="total SCAM, avoid"))["id"] == mine["id"]
        # The room's hosts (the creator, their moderators: the moderator screen) see it as
        # it happens, marked held.
        on_host = await host.until("comment", text="total SCAM, avoid")
        assert on_host["held"] is True and on_host["id"] == mine["id"]
        await talker.send({"type": "comment", "text": "love the colour"})
        for c in (watcher, anonymous, host):
            await c.until("comment", text="love the colour")
        for c in (watcher, anonymous):
            assert "total SCAM, avoid" not in _texts(c)
        # The others' frames vouched for the seq they did not get (no gap, no resume).
        assert any(
            e.get("type") == "skipped" and e["through"] >= mine["seq"] for e in watcher.events
        )

        # Stored hidden, and logged as the filter's hide with what matched.
        async with db.session() as s:
            row = await s.get(LiveComment, mine["id"])
            assert row is not None and row.hidden and row.text == "total SCAM, avoid"
            room = await s.get(LiveSession, sid)
            assert room is not None and room.comments_count == 1  # held spam is not engagement
        (entry,) = await _log(http, creator, sid)
        assert entry["action"] == "hide" and entry["undo"] == "unhide"
        assert entry["actor"] == {"user_id": None, "display_name": None, "role": "filter"}
        assert entry["filter"] == {"rule": "creator_term", "match": "scam"}
        assert entry["target"]["user_id"] == buyer.id
        assert entry["comment"]["text"] == "total SCAM, avoid" and entry["comment"]["hidden"]

        # Snapshots: the author's has it among the others, nobody else's does; replays too
        # (in its place the others get its removal under the same seq).
        again = await RoomClient.open(base, sid, token=buyer.token)
        assert [c["text"] for c in (await again.snapshot())["comments"]] == [
            "total SCAM, avoid",
            "love the colour",
        ]
        fresh = await RoomClient.open(base, sid)
        assert [c["text"] for c in (await fresh.snapshot())["comments"]] == ["love the colour"]
        replay_other = await (await RoomClient.open(base, sid, since=before)).frame()
        held_at = next(e for e in replay_other if e["seq"] == mine["seq"])
        assert held_at["type"] == "comment_hidden" and held_at["ids"] == [mine["id"]]
        assert "total SCAM, avoid" not in [e.get("text") for e in replay_other]
        replay_mine = await (
            await RoomClient.open(base, sid, token=buyer.token, since=before)
        ).frame()
        assert "total SCAM, avoid" in [e.get("text") for e in replay_mine]

        # The hosts' own lines are never filtered.
        await host.send({"type": "comment", "text": "no scam here, promise"})
        await watcher.until("comment", text="no scam here, promise")

        # Unhide from the moderation log: the room gets it back.
        undo = await http.post(
            f"/api/v1/live/moderation-log/{entry['id']}/undo", headers=creator.headers
        )
        assert undo.status_code == 200, undo.text
        for c in (watcher, anonymous, fresh):
            shown = await c.until("comment_shown", id=mine["id"])
            assert shown["text"] == "total SCAM, avoid"
        later = await RoomClient.open(base, sid)
        assert "total SCAM, avoid" in [c["text"] for c in (await later.snapshot())["comments"]]

        # Hold links: a URL is held the same way, logged with the link's kind.
        resp = await http.put(
            f"{FILTER}/creators/{creator.id}/settings",
            json={"hold_links": True},
            headers=creator.headers,
        )
        assert resp.status_code == 200
        await talker.send({"type": "comment", "text": "cheaper at www.knockoffs.shop"})
        await talker.until("comment", text="cheaper at www.knockoffs.shop")
        await talker.send({"type": "comment", "text": "what size is it?"})
        await watcher.until("comment", text="what size is it?")
        assert "cheaper at www.knockoffs.shop" not in _texts(watcher)
        newest = (await _log(http, creator, sid))[0]
        assert newest["filter"] == {"rule": "link", "match": "url"}

        # A held complaint is its author's (and seller support's) only: the hosts are
        # shown how many went to support, never the line.
        parcel = "where is my parcel?? ordered 2 weeks ago"
        await watcher.send({"type": "comment", "text": parcel})
        await watcher.until("comment", text=parcel)
        await host.send({"type": "comment", "text": "anyway, nice show"})
        for c in (host, anonymous):
            await c.until("comment", text="anyway, nice show")
            assert parcel not in _texts(c)

        # A report reaches the hosts' sockets at once (``reports``), nobody else's.
        made = await http.post(
            f"/api/v1/live/sessions/{sid}/reports",
            json={"show": True, "reason": "spam"},
            headers=other.headers,
        )
        assert made.status_code == 201, made.text
        assert (await host.until("reports"))["report_id"] == made.json()["id"]
        await host.send({"type": "comment", "text": "thanks all"})
        for c in (watcher, anonymous, talker):
            await c.until("comment", text="thanks all")
            assert not [e for e in c.events if e.get("type") == "reports"]
        for c in (talker, second_tab, watcher, anonymous, host, again, fresh, later):
            await c.close()


async def test_a_new_term_holds_on_the_other_node(
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
        await talker.send({"type": "comment", "text": "is this fake leather"})  # B caches
        await watcher.until("comment", text="is this fake leather")

        await _block(http, creator, "fake")  # over HTTP on node A
        cache = node_b.state.chat.filters

        async def b_knows() -> bool:  # B's cached answer changes once the news arrives
            return await cache.check(creator.id, "GB", "fake") is not None

        await eventually(b_knows, within=5)
        await talker.send({"type": "comment", "text": "FAKE bags here"})
        mine = await talker.until("comment", text="FAKE bags here")
        await talker.send({"type": "comment", "text": "nice though"})
        await watcher.until("comment", text="nice though")
        assert "FAKE bags here" not in _texts(watcher)

        (entry,) = [e for e in await _log(http, creator, sid) if e["actor"]["role"] == "filter"]
        assert entry["filter"] == {"rule": "creator_term", "match": "fake"}
        undo = await http.post(
            f"/api/v1/live/moderation-log/{entry['id']}/undo", headers=creator.headers
        )
        assert undo.status_code == 200, undo.text
        assert (await watcher.until("comment_shown", id=mine["id"]))["text"] == "FAKE bags here"
        async with db.session() as s:
            hidden = (
                await s.scalars(select(LiveComment.hidden).where(LiveComment.session_id == sid))
            ).all()
        assert list(hidden) == [False, False, False]

        # A report made on node A reaches the host's socket on node B at once.
        host = await RoomClient.open(base_b, sid, token=creator.token)
        await host.snapshot()
        made = await http.post(
            f"/api/v1/live/sessions/{sid}/reports",
            json={"show": True, "reason": "other"},
            headers=buyer.headers,
        )
        assert made.status_code == 201, made.text
        assert (await host.until("reports"))["report_id"] == made.json()["id"]
        for c in (talker, watcher, host):
            await c.close()


def _numbered(seq: int, **data: Any) -> tuple[bytes, dict[str, Any]]:
    body = {"seq": seq, "type": "comment", **data}
    return dumps(body), body


def test_room_state_keeps_held_comments_for_their_authors() -> None:
    state = RoomState(session={"id": 1}, comments_kept=3)
    seq = 0

    def apply(kind: str, **data: Any) -> Ev:
        nonlocal seq
        seq += 1
        body = {"seq": seq, "type": kind, **data}
        ev = Ev(dumps(body), body)
        state.apply(ev)
        return ev

    def texts(raw: bytes) -> list[str]:
        return [c["text"] for c in json.loads(raw)["comments"]]

    apply("comment", id=10, user={"id": 7, "name": "Ann"}, text="hello")
    held = apply("comment", id=11, user={"id": 8, "name": "Bo"}, text="spam", held=True)
    assert held.held and held.author == 8 and b"held" not in held.raw
    assert json.loads(held.raw) == {
        "seq": held.seq,
        "type": "comment",
        "id": 11,
        "user": {"id": 8, "name": "Bo"},
        "text": "spam",
    }
    # The hosts' copy keeps the marker; a private hold (a complaint) has none for them.
    assert json.loads(held.for_hosts().raw)["held"] is True
    private = Ev(*_numbered(99, id=13, user={"id": 8, "name": "Bo"}, text="parcel", held="private"))
    assert private.held and private.host_raw is None and private.for_hosts() is private
    apply("comment", id=12, user={"id": 7, "name": "Ann"}, text="bye")
    assert texts(state.snapshot()) == ["hello", "bye"]
    assert texts(state.snapshot_for(7)) == ["hello", "bye"]
    assert texts(state.snapshot_for(None)) == ["hello", "bye"]
    assert texts(state.snapshot_for(8)) == ["hello", "spam", "bye"]
    apply("comment_shown", id=11, user={"id": 8, "name": "Bo"}, text="spam", host=False)
    assert texts(state.snapshot()) == ["hello", "spam", "bye"]
    assert texts(state.snapshot_for(8)) == ["hello", "spam", "bye"]  # once, not twice

    # The held comments kept are bounded; the oldest go first.
    for i in range(100, 100 + state.held_kept + 5):
        apply("comment", id=i, user={"id": 9, "name": "Cy"}, text=f"x{i}", held=True)
    assert len(state.held) == state.held_kept
    assert texts(state.snapshot_for(9))[-1] == f"x{99 + state.held_kept + 5}"
