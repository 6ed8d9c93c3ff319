"""The per-tick fan-out: one frame for all, coalescing, chat sampling, slow consumers."""

from __future__ import annotations

import asyncio
import json
import socket
from base64 import b64encode
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.events import EventType, dumps
from liveshop.realtime.batch import MAX_PHASES
from liveshop.realtime.config import HubConfig
from liveshop.realtime.room import Room
from liveshop.realtime.state import Ev, RoomState
from liveshop.realtime.wire import Conn, OutFrame
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, eventually, new_session
from tests.support import MakeActor


class FakeConn(Conn):
    """Records frames; ``slow`` ones refuse (like a socket over its buffer bound)."""

    __slots__ = ("frames", "slow")

    def __init__(self, user_id: int | None = None, *, slow: bool = False) -> None:
        super().__init__(None, user_id=user_id, display_name="", is_host=False)  # type: ignore[arg-type]
        self.frames: list[OutFrame] = []
        self.slow = slow

    def write(self, frame: OutFrame) -> bool:
        if self.gone or self.slow:
            return False
        self.frames.append(frame)
        return True

    def drop(self, grace_s: float) -> None:
        self.gone = True

    def received(self) -> list[dict[str, Any]]:
        return [e for f in self.frames for e in json.loads(f.payload)]


class FakeHub:
    def __init__(self, **config: Any) -> None:
        self.config = HubConfig(**config)
        self.dropped = 0
        self.room: Room | None = None

    def total_conns(self) -> int:
        return len(self.room.conns) if self.room else 0

    def close_if_idle(self, room: Room) -> None:
        pass


def make_room(**config: Any) -> Room:
    hub = FakeHub(**config)
    room = Room(hub, 1, RoomState(session={"id": 1, "status": "live"}))  # type: ignore[arg-type]
    hub.room = room
    room.start([], 0)
    return room


def ev(seq: int, kind: EventType, **data: Any) -> Ev:
    body = {"seq": seq, "type": str(kind), "ts": 0.0, **data}
    return Ev(dumps(body), body)


def comment(seq: int, author: int, *, host: bool = False) -> Ev:
    return ev(seq, EventType.COMMENT, user={"id": author, "name": "x"}, text=f"c{seq}", host=host)


async def test_one_frame_for_everyone_with_counters_coalesced() -> None:
    room = make_room()
    a, b = FakeConn(), FakeConn(7)
    room.add(a)
    room.add(b)
    events = [
        ev(1, EventType.STOCK, sku_id=1, available=5, deal_id=None),
        ev(2, EventType.STOCK, sku_id=2, available=9, deal_id=None),
        comment(3, 7),
        ev(4, EventType.STOCK, sku_id=1, available=4, deal_id=None),
        ev(5, EventType.LIKE, count=10),
        ev(6, EventType.LIKE, count=12),
    ]
    for e in events:
        room._accept(e)
    room.flush()
    assert len(a.frames) == len(b.frames) == 1
    assert a.frames[0] is b.frames[0]  # the same bytes object, encoded once
    got = a.received()
    assert [e.get("seq") for e in got] == [2, 3, 4, 6, None]
    assert got[-1] == {"type": "skipped", "count": 2, "through": 6}
    assert room.state.likes == 12 and room.state.seq == 6
    await room.stop()


async def test_chat_is_sampled_in_big_rooms_but_hosts_and_authors_see_theirs() -> None:
    # cap = comment_cap_per_s × tick = 20 × 0.1 = 2 lines per tick.
    room = make_room(sample_from_viewers=3, comment_cap_per_s=20)
    viewers = [FakeConn(user) for user in range(1, 6)]
    anon = FakeConn()
    for c in [*viewers, anon]:
        room.add(c)
    for seq in range(1, 11):
        room._accept(comment(seq, author=seq % 5 + 1))
    room._accept(comment(11, author=99, host=True))
    room.flush()
    shared = anon.received()
    texts = [e["text"] for e in shared if e["type"] == "comment"]
    assert len(texts) == 3 and "c11" in texts  # two sampled lines + the host's
    assert shared[-1] == {"type": "skipped", "count": 8, "through": 11}
    for conn in viewers:
        mine = conn.received()
        seqs = [e["seq"] for e in mine if "seq" in e]
        assert seqs == sorted(seqs)
        own = {e["seq"] for e in mine if e.get("user", {}).get("id") == conn.user_id}
        assert own == {s for s in range(1, 11) if s % 5 + 1 == conn.user_id}
        skipped = mine[-1]["count"] if mine[-1]["type"] == "skipped" else 0
        assert len(seqs) + skipped == 11
    await room.stop()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["comment", "host", "stock", "like"]),
            st.integers(min_value=1, max_value=4),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=1, max_value=6),
)
def test_every_viewer_gets_a_consistent_view(spec: list[tuple[str, int]], viewers: int) -> None:
    """Whatever arrives in a tick, each viewer's frame is in seq order, accounts for every
    event (delivered + skipped), and holds every host line, their own lines and the latest
    value of every counter."""

    async def scenario() -> None:
        room = make_room(sample_from_viewers=2, comment_cap_per_s=10)
        conns = [FakeConn(u) for u in range(1, viewers + 1)]
        for c in conns:
            room.add(c)
        events = []
        for seq, (kind, n) in enumerate(spec, start=1):
            if kind in ("comment", "host"):
                events.append(comment(seq, author=n, host=kind == "host"))
            elif kind == "stock":
                events.append(ev(seq, EventType.STOCK, sku_id=n, available=seq, deal_id=None))
            else:
                events.append(ev(seq, EventType.LIKE, count=seq))
        for e in events:
            room._accept(e)
        room.flush()
        last_by_key = {e.key: e.seq for e in events if e.key is not None}
        for c in conns:
            got = c.received()
            seqs = [e["seq"] for e in got if "seq" in e]
            assert seqs == sorted(set(seqs))
            skipped = got[-1]["count"] if got[-1]["type"] == "skipped" else 0
            assert len(seqs) + skipped == len(events)
            must = {e.seq for e in events if e.host or (e.author == c.user_id)}
            must |= set(last_by_key.values())
            assert must <= set(seqs)
        await room.stop()

    asyncio.run(scenario())


async def test_a_slow_viewer_is_dropped_and_the_room_goes_on() -> None:
    room = make_room()
    fast, slow = FakeConn(), FakeConn(slow=True)
    room.add(fast)
    room.add(slow)
    room._accept(comment(1, 3))
    room.flush()
    assert slow.gone and slow not in room.conns and room.dropped == 1
    room._accept(comment(2, 3))
    room.flush()
    assert [e["seq"] for e in fast.received()] == [1, 2]
    await room.stop()


def _raw_viewer(port: int, path: str) -> socket.socket:
    """A WebSocket client that connects and then never reads (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = b64encode(b"0123456789abcdef").decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


async def test_a_socket_that_stops_reading_is_dropped_over_the_network(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db, send_buffer_limit=16 * 1024, drop_grace_s=0.2)
    base = await serve(app)
    hub = app.state.hub
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator = await make_actor(Role.CREATOR)
        sid = (await new_session(http, creator, [], start=True))["id"]
        good = await RoomClient.open(base, sid)
        await good.snapshot()
        port = int(base.rsplit(":", 1)[1])
        stuck = await asyncio.to_thread(_raw_viewer, port, f"/ws/live/{sid}")
        try:
            room = hub.rooms[sid]

            async def both_joined() -> bool:
                return len(room.conns) == 2

            await eventually(both_joined)
            sent = 0

            async def dropped() -> bool:
                nonlocal sent
                for _ in range(20):
                    sent += 1
                    await hub.publisher.publish(sid, EventType.PURCHASE, {"text": "x" * 2000})
                return hub.dropped == 1

            await eventually(dropped, within=20)
            assert len(room.conns) == 1
            # The viewer who keeps reading got every one of them, in order.
            got = await good.count("purchase", sent, within=20)
            assert len(got) == sent
            assert good.seqs() == list(range(good.seqs()[0], good.seqs()[-1] + 1))
        finally:
            stuck.close()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("event"), st.sampled_from(["comment", "stock", "like"])),
            st.tuples(st.just("step"), st.integers(min_value=1, max_value=3)),
            st.tuples(st.just("join"), st.integers(min_value=1, max_value=4)),
            st.tuples(st.just("leave"), st.integers(min_value=0, max_value=50)),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_rolling_groups_deliver_every_event_once_in_order(ops: list[tuple[str, Any]]) -> None:
    """A room written in groups (a few sockets per phase) gives each socket, from the
    moment it joined, every event exactly once and in order — whatever the joins, leaves
    and regroupings — and one round of phases with nothing new catches everyone up."""

    async def scenario() -> None:
        room = make_room(write_chunk=2)
        joined_at: dict[FakeConn, int] = {}
        seq = 0
        for op, arg in ops:
            if op == "event":
                seq += 1
                if arg == "comment":
                    room._accept(comment(seq, author=seq % 3 + 1))
                elif arg == "stock":
                    room._accept(ev(seq, EventType.STOCK, sku_id=1, available=seq, deal_id=None))
                else:
                    room._accept(ev(seq, EventType.LIKE, count=seq))
            elif op == "step":
                for _ in range(arg):
                    room.step()
            elif op == "join":
                for _ in range(arg):
                    conn = FakeConn(len(joined_at) % 4 + 1)
                    joined_at[conn] = room.state.seq
                    room.add(conn)
            elif room.conns:
                conns = sorted(room.conns, key=id)
                room.remove(conns[arg % len(conns)])
        for _ in range(MAX_PHASES + 1):
            room.step()
        assert len(room.groups) == room.phases()
        members = [c for g in room.groups for c in g.members]
        assert sorted(map(id, members)) == sorted(map(id, room.conns)), "each socket once"
        for conn, since in joined_at.items():
            got = conn.received()
            seqs = [e["seq"] for e in got if "seq" in e]
            assert seqs == sorted(set(seqs)), "in order, no duplicates"
            assert all(s > since for s in seqs), "nothing from before the join"
            if conn in room.conns:
                skipped = sum(e["count"] for e in got if e.get("type") == "skipped")
                assert len(seqs) + skipped == seq - since, "every event delivered or counted"
        await room.stop()

    asyncio.run(scenario())


async def test_a_big_room_is_written_one_group_per_phase() -> None:
    room = make_room(write_chunk=3)
    conns = [FakeConn() for _ in range(9)]
    for c in conns:
        room.add(c)
    room.step()  # regroups: three groups of three
    assert len(room.groups) == 3
    room._accept(ev(1, EventType.STOCK, sku_id=1, available=5, deal_id=None))
    room.step()
    written = [c for c in conns if c.frames]
    assert len(written) == 3  # one group this phase
    assert len({id(c.frames[0]) for c in written}) == 1  # one frame built for the group
    room.step()
    room.step()
    assert all(c.received() == [json.loads(written[0].frames[0].payload)[0]] for c in conns)
    await room.stop()
