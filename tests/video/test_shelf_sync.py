"""The shelf in step with the picture: a viewer whose player runs 6 s behind sees a pin 6 s
after the host made it (when their picture gets there), and a flash deal's card and its
countdown's end come the same 6 s late — as the host's did on screen. The server's state
changes at once (buying is never held back)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import datetime
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.conftest import service_missing
from tests.shopfront import MakeShopfront, Shopfront, open_plan
from tests.support import MakeActor
from tests.video.helpers import eventually, new_key, session
from tests.video.served import Served, encoder_args, push, serve

CHROMIUM = "/usr/bin/chromium"
DELAY_S = 6.0
SLACK_S = 1.6  # the picture's clock moves in frames, the page checks every 0.1 s
# The room's player, never catching up by itself: paused for DELAY_S, it stays that far behind.
BEHIND = "window.LIVESHOP_PLAYER_TUNING = {liveMaxLatencyDuration: 60, maxLiveSyncPlaybackRate: 1};"
VIDEO = "document.querySelector('video.room-player')"

LOOK_JS = """() => {
  const room = document.getElementById("room");
  const text = room.querySelector("[data-region=product]").textContent;
  return {lag: Number(room.dataset.pictureLagMs || 0), pinned: text.includes("Pinned by the host"),
          deal: !!room.querySelector(".has-deal"),
          countdown: (room.querySelector(".countdown") || {}).textContent || "",
          ended: !!room.querySelector(".countdown[data-state=ended]")};
}"""


async def look(page: Page) -> dict[str, Any]:
    seen: dict[str, Any] = await page.evaluate(LOOK_JS)
    return seen


async def seen_at(page: Page, what: str, within: float = 20) -> float:
    """The picture's time (wall clock of the frame on screen) when the page first shows
    ``what`` (polled every 0.1 s)."""
    lag: list[float] = []

    async def shows() -> bool:
        now = await look(page)
        lag[:] = [now["lag"] / 1000]
        if what == "deal over":
            return bool(now["countdown"] == "ending…" or now["ended"] or not now["deal"])
        return bool(now[what])

    try:
        await eventually(shows, within=within, every=0.1)
    except TimeoutError:
        text = await page.evaluate("() => document.getElementById('room').innerText")
        raise AssertionError((what, await look(page), text[:1500])) from None
    return time.time() - lag[0]


async def test_a_viewer_6_s_behind_sees_pins_and_deals_6_s_late(
    db: Database, db_url: str, make_actor: MakeActor, make_shopfront: MakeShopfront
) -> None:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat, before anything runs
        service_missing("Chromium", f"{CHROMIUM} is missing")
    async with async_playwright() as pw:
        # Chromium and the shop get ready while the server starts (seconds, on a busy machine).
        launching = asyncio.create_task(
            pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        )
        shopfront = asyncio.create_task(make_shopfront(stock=100))
        try:
            async with (
                serve(db_url, grace_s=5) as served,
                httpx.AsyncClient(base_url=served.base, timeout=10) as c,
            ):
                await _behind_by_6_s(served, c, await launching, await shopfront, make_actor)
        finally:
            with contextlib.suppress(Exception):
                await (await launching).close()


async def _behind_by_6_s(
    served: Served,
    c: httpx.AsyncClient,
    browser: Browser,
    shop: Shopfront,
    make_actor: MakeActor,
) -> None:
    plan = await open_plan(c, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    assert plan.status_code == 201, plan.text
    creator = await make_actor(Role.CREATOR)
    sid = (await session(c, creator, [shop.product_id]))["id"]
    key = await new_key(c, creator)
    encoder = await push(f"{served.rtmp}/{key}", 45, encoder_args(gop=30, fps=30, size="320x180"))
    ctx = await browser.new_context(base_url=served.base)
    await ctx.add_init_script(BEHIND)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(f"/live/{sid}")

    async def playing() -> bool:
        return bool((await look(page))["lag"] > 0)

    await eventually(playing, within=40, every=0.2)
    # The artificial delay: this viewer's player stops for DELAY_S, then plays on.
    await page.evaluate(f"() => {VIDEO}.pause()")
    await asyncio.sleep(DELAY_S)
    await page.evaluate(f"() => {VIDEO}.play()")

    async def behind() -> bool:
        return bool((await look(page))["lag"] >= DELAY_S * 1000)

    try:
        await eventually(behind, within=20, every=0.2)
    except TimeoutError:
        raise AssertionError(await look(page)) from None
    host = creator.headers

    # A pin, and a flash deal of 10 s just after it: the server has both at once; this
    # viewer sees each when the picture gets to the moment it was made — about DELAY_S
    # later — and the deal's countdown ends as late.
    pinned_at = time.time()
    pin = await c.post(
        f"/api/v1/live/sessions/{sid}/pin", json={"product_id": shop.product_id}, headers=host
    )
    assert pin.status_code == 200, pin.text
    # The host starts the deal a second later (a script, not a wait): on this viewer's
    # screen the pin shows for that second before the deal's card takes its place.
    await asyncio.sleep(1.0)
    started_at = time.time()
    deal = await c.post(
        f"/api/v1/live/sessions/{sid}/deals",
        json={"sku_id": shop.sku_id, "price_minor": 1500, "units": 5, "duration_seconds": 10},
        headers=host,
    )
    assert deal.status_code == 201, deal.text
    ends_at = datetime.fromisoformat(deal.json()["ends_at"]).timestamp()
    assert not (await look(page))["pinned"]
    # …while buyers can already buy it (the server's deal runs now).
    running = await c.get(f"/api/v1/live/sessions/{sid}/deal")
    assert running.status_code == 200 and running.json()["deal_id"] == deal.json()["deal_id"]
    pin_seen, deal_seen = await asyncio.gather(seen_at(page, "pinned"), seen_at(page, "deal"))
    assert abs(pin_seen - pinned_at) <= SLACK_S
    assert abs(deal_seen - started_at) <= SLACK_S
    assert time.time() - pinned_at >= DELAY_S - SLACK_S
    assert abs(await seen_at(page, "deal over", within=30) - ends_at) <= SLACK_S
    assert time.time() - ends_at >= DELAY_S - SLACK_S

    assert [e for e in errors if "ERR_NAME_NOT_RESOLVED" not in e] == []
    encoder.terminate()
    await asyncio.wait_for(encoder.wait(), 10)
