"""The room events of a video-driven start and end: ``session_started`` goes out with the
commit that makes the session live (``live.transition(..., room=)``), before the ``video``
event, and ``session_ended`` with the commit that ends it after the grace period (then a ``video``
"ended" once the replay is written) — the same
events, content and order as when the manager published them by hand — and an end that
rolls back publishes nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.errors import Conflict
from liveshop.core.events import decode
from liveshop.live import service as live_service
from liveshop.live.models import SessionStatus
from liveshop.realtime.publish import room_channel
from liveshop.video import ingest
from tests.support import MakeActor
from tests.video.conftest import GRACE_S, nginx_calls
from tests.video.helpers import eventually, new_key, product, session


async def test_going_live_and_ending_by_video_reach_the_room_in_order(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(vclient, creator, [await product(vclient, seller, "glow")]))["id"]
    key = await new_key(vclient, creator)
    broker = video_app.state.hub.broker

    assert (await nginx_calls(vclient, "publish", key, client_id="7")).status_code == 302
    assert (await nginx_calls(vclient, "publish_done", key, client_id="7")).status_code == 200

    async def ended() -> bool:
        async with db.session() as s:
            live = await live_service.get_session(s, sid)
            return live.status == SessionStatus.ENDED

    await eventually(ended, within=GRACE_S + 10)

    async def replay_announced() -> bool:
        return len(await broker.history(room_channel(sid))) >= 5

    await eventually(replay_announced)
    async with db.session() as s:
        live = await live_service.get_session(s, sid)
        started, finished = live.actual_start, live.actual_end
    assert started is not None and finished is not None
    events = [decode(raw) for raw in await broker.history(room_channel(sid))]
    summary = [(e["seq"], e["type"], e.get("state")) for e in events]
    assert summary == [
        (1, "session_started", None),
        (2, "video", "receiving"),
        (3, "video", "reconnecting"),
        (4, "session_ended", None),
        (5, "video", "ended"),  # the recording is final: players switch to the replay
    ]
    assert events[0]["at"] == started.isoformat()
    assert (events[3]["status"], events[3]["at"]) == ("ended", finished.isoformat())


async def test_an_end_after_the_grace_period_that_rolls_back_publishes_nothing(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(vclient, creator, [await product(vclient, seller, "glow")]))["id"]
    key = await new_key(vclient, creator)
    hub, video = video_app.state.hub, video_app.state.video
    channel = room_channel(sid)
    assert (await nginx_calls(vclient, "publish", key, client_id="7")).status_code == 302
    assert (await nginx_calls(vclient, "publish_done", key, client_id="7")).status_code == 200
    video._cancel_end(sid)  # this test plays the grace timer itself
    await asyncio.sleep(GRACE_S + 0.1)
    before = await hub.broker.last_seq(channel)

    async with db.session() as s:
        stale = await live_service.get_session(s, sid)  # live, as the timer last read it
        await s.commit()
        async with db.session() as elsewhere:  # …while someone else ends it (quietly)
            live = await live_service.get_session(elsewhere, sid)
            await live_service.transition(elsewhere, live, SessionStatus.ENDED)
        assert stale.status == SessionStatus.LIVE
        room = hub.publisher.on_commit(s)
        with pytest.raises(Conflict):
            await ingest.end_after_grace(s, sid, GRACE_S, room=room)
    assert room.seqs == [] and await hub.broker.last_seq(channel) == before
