"""The studio's auction form on both databases: the host edits the lot's bid steps (rows
"from price → step"), the lot takes that table and the room is shown it; a table that does
not rise, or a half-filled row, is refused with the reason and no lot goes up."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.db import Database
from liveshop.live.auctions import service as auctions
from liveshop.live.auctions.models import Auction
from tests.support import MakeActor
from tests.web.test_live_pages import _owner_setup, _post
from tests.web.test_pages import csrf_of


async def _start(
    client: httpx.AsyncClient, base: str, sku_id: int, froms: list[str], steps: list[str]
) -> httpx.Response:
    token = csrf_of(await client.get("/studio"))
    return await client.post(
        f"{base}/auctions",
        data={
            "csrf_token": token,
            "sku_id": str(sku_id),
            "start": "5.00",
            "seconds": "30",
            "quantity": "1",
            "mode": "anti_snipe",
            "snipe_seconds": "10",
            "inc_from": froms,
            "inc_step": steps,
        },
        headers={"referer": f"http://testserver{base}"},
    )


async def test_the_host_sets_the_lots_bid_steps(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, _, sku_id = await _owner_setup(db, client, make_actor)
    base = f"/studio/sessions/{session_id}"
    await _post(client, f"{base}/start")
    page = await client.get(base)
    # The form starts from the default table, in the market's money.
    assert 'name="inc_step"' in page.text and 'value="20.00"' in page.text
    assert "From the start" in page.text

    refused = [
        (["0", "10.00", ""], ["0.50", "", ""]),  # a price without its step
        (["0", "10.00", "5.00"], ["0.50", "1.00", "2.00"]),  # prices not rising
        (["0", "10.00"], ["1.00", "0.50"]),  # a step that falls
        (["0", "abc"], ["1.00", "2.00"]),  # not money
    ]
    for froms, steps in refused:
        resp = await _start(client, base, sku_id, froms, steps)
        assert resp.status_code == 303 and resp.headers["location"].startswith(base), resp.text
        shown = await client.get(base)
        assert 'class="flash flash-error"' in shown.text, (froms, steps)
    assert (await session.scalars(select(Auction))).all() == []

    # Blank rows are dropped; the first row is from the start.
    resp = await _start(
        client, base, sku_id, ["0", "10.00", "", "50.00"], ["0.50", "1.00", "", "5.00"]
    )
    assert resp.status_code == 303
    shown = await client.get(base)
    assert "Auction on" in shown.text
    await session.rollback()
    lot = (await session.scalars(select(Auction))).one()
    assert lot.increments == [[0, 50], [1000, 100], [5000, 500]]
    # The room is told the table (its snapshot and ``auction_started``; auction.js shows
    # "Bid steps: +£0.50 from £0.00 · …"), and so is the API.
    assert (await auctions.room_view(session, lot))["increments"] == lot.increments
    room = await client.get(f"/api/v1/live/sessions/{session_id}/auction")
    assert room.json()["increments"] == [[0, 50], [1000, 100], [5000, 500]]
