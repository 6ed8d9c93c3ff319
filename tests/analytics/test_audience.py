"""Viewers are counted from real players' heartbeats: the host, the studio and a bot are
not, a tab in the background stops counting, and a socket that never plays counts nothing.
Real WebSockets on a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from websockets.asyncio.client import connect

from liveshop.analytics import queries, rollup
from liveshop.analytics.capture import Capture, epoch_minute
from liveshop.analytics.models import Kind, events_table
from liveshop.core.clock import utcnow
from tests.live.helpers import RoomClient
from tests.realtime.test_room import Stage, stage

__all__ = ["stage"]

BEAT = 0.3  # the test's heartbeat interval (the room's is 15 s)


async def _open(stage: Stage, *, token: str | None = None, ua: str = "Mozilla/5.0", studio=False):
    query = []
    if token:
        query.append(f"token={token}")
    if studio:
        query.append("studio=true")
    url = f"{stage.base}/ws/live/{stage.sid}" + ("?" + "&".join(query) if query else "")
    ws = await connect(url, compression=None, user_agent_header=ua)
    client = RoomClient(ws)
    await client.snapshot()
    return client


async def _beat(client: RoomClient, *, visible: bool = True, vid: str | None = None) -> None:
    frame = {"type": "hb", "visible": visible, "playing": True}
    if vid:
        frame["vid"] = vid
    await client.send(json.dumps(frame))


async def test_heartbeats_count_real_players_only(stage: Stage) -> None:
    stage.hub.config.heartbeat_s = BEAT
    capture: Capture = stage.hub.audience.capture  # type: ignore[union-attr]
    buyer = await _open(stage, token=stage.buyer.token)
    anonymous = await _open(stage)
    background = await _open(stage)
    host = await _open(stage, token=stage.creator.token)
    studio = await _open(stage, token=stage.seller.token, studio=True)
    bot = await _open(stage, ua="Mozilla/5.0 (compatible; Googlebot/2.1)")
    for _ in range(3):
        await asyncio.gather(
            _beat(buyer),
            _beat(anonymous, vid="anon-player-1"),
            _beat(background, vid="anon-player-2"),
            _beat(host),
            _beat(studio),
            _beat(bot, vid="bot-player-01"),
        )
        await asyncio.sleep(BEAT)
    # the second anonymous tab goes to the background: its beats say so and stop counting
    for _ in range(3):
        await asyncio.gather(_beat(buyer), _beat(background, visible=False, vid="anon-player-2"))
        await asyncio.sleep(BEAT)
    # a ping answered means every frame before it was handled
    for c in (buyer, anonymous, background, host, studio, bot):
        await c.send(json.dumps({"type": "ping", "ref": "x"}))
        await c.until("pong", ref="x")
    await capture.flush()

    keys = {
        "buyer": capture.key(user_id=stage.buyer.id),
        "anonymous": capture.key(client_id="anon-player-1"),
        "background": capture.key(client_id="anon-player-2"),
    }
    e = events_table.c
    async with stage.hub.db.session(deferred=True) as s:
        beats = (
            await s.execute(
                select(e.viewer, e.seconds).where(
                    e.session_id == stage.sid, e.kind == str(Kind.HEARTBEAT)
                )
            )
        ).all()
        per_viewer: dict[str, int] = {}
        for viewer, _seconds in beats:
            per_viewer[viewer] = per_viewer.get(viewer, 0) + 1
        # host, studio and bot never counted; the background tab only while it was visible
        assert set(per_viewer) == set(keys.values())
        assert per_viewer[keys["buyer"]] == 6
        assert per_viewer[keys["anonymous"]] == 3
        assert per_viewer[keys["background"]] == 3
        assert all(0 <= sec <= 1 for _v, sec in beats)  # the seconds are the socket's own
        assert await queries.concurrent_now(s, stage.sid) == 3
        assert await queries.unique_viewers(s, stage.sid) == 3
        # the host's own join is not a viewer's either
        joins = (
            await s.execute(
                select(e.viewer).where(e.session_id == stage.sid, e.kind == str(Kind.JOIN))
            )
        ).all()
        assert len(joins) == 3
    async with stage.hub.db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(utcnow()) + 1)
    async with stage.hub.db.session(deferred=True) as s:
        assert await queries.unique_viewers(s, stage.sid) == 3
        series = await queries.minute_series(s, stage.sid)
        assert max(m.viewers for m in series) == 3
    for c in (buyer, anonymous, background, host, studio, bot):
        await c.close()


async def test_a_bad_heartbeat_is_refused_and_the_socket_stays(stage: Stage) -> None:
    client = await _open(stage)
    for frame in (
        {"type": "hb", "visible": "yes", "playing": True},
        {"type": "hb", "visible": True, "playing": True, "vid": "x\u0000" * 5},
        {"type": "hb", "visible": True, "playing": True, "vid": 12345678},
    ):
        await client.send(json.dumps(frame))
        assert (await client.until("error"))["code"] == "bad-heartbeat"
    await client.send(json.dumps({"type": "ping", "ref": "ok"}))
    await client.until("pong", ref="ok")
    await client.close()
