"""The home page's beacon: the shows whose cards a page showed reach the capture buffer (no
write on the request), for anonymous players and signed-in buyers alike; bad input is a 422."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.analytics.capture import Capture
from liveshop.core.db import Database
from tests.shopfront import start_session
from tests.support import MakeActor


async def test_impressions_are_captured_for_the_funnel(
    db: Database, app: Any, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    sid = await start_session(db, creator.id)
    capture: Capture = app.state.analytics
    url = "/api/v1/analytics/impressions"
    got = await client.post(url, json={"session_ids": [sid, 999_999], "vid": "player-abc-123"})
    assert got.status_code == 204
    got = await client.post(url, json={"session_ids": [sid]}, headers=buyer.headers)
    assert got.status_code == 204
    rows = capture._buffer
    assert [(r["kind"], r["session_id"], r["market_code"]) for r in rows] == [
        ("impression", sid, "GB"),
        ("impression", sid, "GB"),
    ]
    assert rows[0]["viewer"] == capture.key(client_id="player-abc-123")
    assert rows[1]["viewer"] == capture.key(user_id=buyer.id)
    for bad in (
        {"session_ids": [sid], "vid": "x\u0000yyyyyyyy"},
        {"session_ids": [2**63]},
        {"session_ids": list(range(1, 60))},
        {"session_ids": "1"},
    ):
        assert (await client.post(url, json=bad)).status_code == 422, bad
