"""An app restart picks up the streams the previous run left open."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.live import service as live_service
from liveshop.live.models import SessionStatus
from liveshop.realtime.wiring import shutdown_realtime
from tests.support import MakeActor
from tests.video.conftest import GRACE_S, nginx_calls
from tests.video.helpers import eventually, new_key, product, session


async def test_a_restart_ends_what_lost_its_encoder_and_finishes_what_ended(
    video_app: FastAPI,
    vclient: httpx.AsyncClient,
    make_actor: MakeActor,
    db: Database,
) -> None:
    seller = await make_actor(Role.SELLER)
    pid = await product(vclient, seller, "glow")
    ids: dict[str, int] = {}
    for name in ("receiving", "reconnecting", "ended_meanwhile"):
        creator = await make_actor(Role.CREATOR)
        ids[name] = (await session(vclient, creator, [pid]))["id"]
        key = await new_key(vclient, creator)
        assert (await nginx_calls(vclient, "publish", key, client_id=name)).status_code == 302
        if name != "receiving":
            done = await nginx_calls(vclient, "publish_done", key, client_id=name)
            assert done.status_code == 200

    await video_app.state.video.stop()  # the app goes down: its timers are gone
    async with db.session() as s:  # meanwhile the creator ends one session in the studio
        live = await live_service.get_session(s, ids["ended_meanwhile"])
        await live_service.transition(s, live, SessionStatus.ENDED)

    again = create_app(video_app.state.settings, database=db)
    again.state.video.provider.ingest = True
    try:
        await again.state.video.recover(encoders_lost=True)  # a fresh nginx: no encoders
        transport = httpx.ASGITransport(app=again)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:

            async def video(sid: int) -> dict[str, Any]:
                body: dict[str, Any] = (await c.get(f"/api/v1/video/{sid}")).json()
                return body

            assert (await video(ids["receiving"]))["state"] == "reconnecting"

            async def all_over() -> bool:
                states = [await video(sid) for sid in ids.values()]
                return all(v["state"] == "ended" for v in states)

            await eventually(all_over, within=GRACE_S + 10)
            for sid in ids.values():
                assert (await video(sid))["session_status"] == "ended"
    finally:
        await again.state.video.stop()
        await shutdown_realtime(again)
