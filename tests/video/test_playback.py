"""Any encoder's stream plays, live and as a replay, in real Chromium with the room's own
player (hls.js): OBS's recommended ``-g 60`` (a keyframe every 2 s), the demo's ``-g 25``,
an encoder whose sound starts before its picture, and one that drops and reconnects.

One server per database and all four pushes at once (each its own creator and session),
viewers already in the room when the encoder goes live. Each picture must have real size
and ``currentTime`` must move on by seconds; the reconnecting one must play on after its
encoder is back; every replay must play to its end, across the discontinuity. The ``-g 25``
show pins two products while live: its replay is shoppable (chips at the pins' moments, a
tap seeks there, the card follows playback, normal prices).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.conftest import service_missing
from tests.support import MakeActor
from tests.video.helpers import eventually, new_key, product, session
from tests.video.served import Served, encoder_args, push, serve

CHROMIUM = Path("/usr/bin/chromium")
GRACE_S = 4.0
PUSH_S = 8  # each stream is at least this long (the reconnecting one: two halves) …
MAX_PUSH_S = 90  # … and goes on until its viewer has seen it play (never longer than this)
PLAYS_S = 2.0  # currentTime must move on this far
SIZE = "320x180"

PLAYER_JS = """() => {
  const v = document.querySelector("video.room-player");
  const root = document.querySelector("[data-region=video]");
  return {t: v.currentTime, w: v.videoWidth, h: v.videoHeight, paused: v.paused,
          duration: v.duration, ended: v.ended, at: Number(root.dataset.streamTime || 0)};
}"""


@dataclass
class Case:
    name: str
    encoder: list[str]
    sid: int = 0
    key: str = ""
    page: Page | None = None
    errors: list[str] = field(default_factory=list)
    products: list[int] = field(default_factory=list)
    host: dict[str, str] = field(default_factory=dict)
    back_ms: float | None = None  # the reconnecting case: when its second push began


async def player(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate(PLAYER_JS)
    return state


async def plays(page: Page, *, within: float = 45) -> dict[str, Any]:
    """The picture has real size and currentTime moves on by PLAYS_S seconds."""
    first: dict[str, Any] = {}

    async def moving() -> bool:
        now = await player(page)
        if now["w"] <= 0 or now["t"] <= 0:
            return False
        if not first:
            first.update(now)
        return bool(now["t"] >= first["t"] + PLAYS_S)

    await eventually(moving, within=within, every=0.2)
    return first


async def open_room(browser: Browser, base: str, case: Case) -> Page:
    page = await browser.new_page(base_url=base, viewport={"width": 390, "height": 844})
    page.on("pageerror", lambda e: case.errors.append(f"pageerror: {e}"))

    def console(m: Any) -> None:
        # The test products' images are on example.com, which does not resolve here.
        if m.type == "error" and "ERR_NAME_NOT_RESOLVED" not in m.text:
            case.errors.append(f"console: {m.text}")

    page.on("console", console)
    await page.goto(f"/live/{case.sid}")
    return page


async def video_state(c: httpx.AsyncClient, sid: int) -> dict[str, Any]:
    body: dict[str, Any] = (await c.get(f"/api/v1/video/{sid}")).json()
    return body


async def _push_until(url: str, case: Case, at_least_s: float, stop: asyncio.Event) -> None:
    """Push for at least ``at_least_s``, then until ``stop`` is set (at most ``MAX_PUSH_S``),
    and end the stream as an encoder's "stop streaming" does (SIGINT: ffmpeg closes the RTMP
    session cleanly). A fixed-length push was too short for a loaded machine's players to
    catch the live edge and play on before the stream ended."""
    proc = await push(url, MAX_PUSH_S, case.encoder)
    try:
        await asyncio.sleep(at_least_s)  # the encoder's script: this much video at least
        async with asyncio.timeout(MAX_PUSH_S - at_least_s):
            await stop.wait()
    except TimeoutError:
        pass
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        _, err = await proc.communicate()
    # ffmpeg exits 255 when a signal ends it (after writing the stream's end)
    assert proc.returncode in (0, 255), err


async def run_encoder(
    served: Served, c: httpx.AsyncClient, case: Case, stop: asyncio.Event
) -> None:
    """Push until ``stop``; the reconnecting case pushes twice (``case.back_ms``: when its
    second push began)."""
    url = f"{served.rtmp}/{case.key}"
    if case.name != "reconnects":
        await _push_until(url, case, PUSH_S, stop)
        return
    proc = await push(url, PUSH_S / 2, case.encoder)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err

    async def reconnecting() -> bool:
        return (await video_state(c, case.sid))["state"] == "reconnecting"

    await eventually(reconnecting)
    case.back_ms = time.time() * 1000
    await _push_until(url, case, PUSH_S / 2, stop)


async def pin_two(c: httpx.AsyncClient, case: Case) -> None:
    """The host pins one product as the video starts, the other 2.5 s later."""

    async def receiving() -> bool:
        return (await video_state(c, case.sid))["state"] == "receiving"

    await eventually(receiving)
    for n, pid in enumerate(case.products):
        if n:  # the host shows the second product 2.5 s after the first (a script, not a wait)
            await asyncio.sleep(2.5)
        resp = await c.post(
            f"/api/v1/live/sessions/{case.sid}/pin", json={"product_id": pid}, headers=case.host
        )
        assert resp.status_code == 200, resp.text


CARD_JS = """() => document.querySelector("[data-region=product]").textContent"""


async def shop_the_replay(page: Page, c: httpx.AsyncClient, case: Case) -> None:
    """Chips at the pins' offsets; a tap jumps there and shows that product (normal price);
    the card follows playback into the next product."""
    timeline = (await c.get(f"/api/v1/video/{case.sid}/timeline")).json()
    pins = [e for e in timeline["entries"] if e["kind"] == "pin"]
    assert [p["product_id"] for p in pins] == case.products
    titles = {p["product_id"]: p["title"] for p in timeline["products"]}
    chips = page.locator(".replay-chip")
    await eventually(lambda: _count_is(chips, 2))
    await page.evaluate("() => { document.querySelector('video.room-player').playbackRate = 1; }")
    await chips.nth(0).click()
    now = await player(page)
    assert abs(now["t"] - pins[0]["offset_ms"] / 1000) < 1.0, (now, pins)

    async def card_shows(pid: int) -> bool:
        return titles[pid] in await page.evaluate(CARD_JS)

    await eventually(lambda: card_shows(case.products[0]), within=5)
    assert "£18.99" in await page.evaluate(CARD_JS)  # the normal price
    assert await chips.nth(0).get_attribute("aria-current") == "true"
    # Playing on from there, the card changes when the picture gets to the second pin.
    await eventually(lambda: card_shows(case.products[1]), within=20, every=0.1)
    assert (await player(page))["t"] >= pins[1]["offset_ms"] / 1000 - 0.5
    assert "£24.50" in await page.evaluate(CARD_JS)
    # Tapping the first chip again goes back to it.
    await chips.nth(0).click()
    await eventually(lambda: card_shows(case.products[0]), within=5)


async def _count_is(locator: Any, n: int) -> bool:
    return bool(await locator.count() == n)


async def test_every_encoder_plays_live_and_as_replay(
    db: Database, db_url: str, make_actor: MakeActor
) -> None:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat, before anything runs
        service_missing("Chromium", f"{CHROMIUM} is missing (run `make system-deps` as root)")
    shoppable = Case("demo -g 25", encoder_args(gop=25, fps=25, size=SIZE))  # pins, too
    cases = [
        Case("obs -g 60", encoder_args(gop=60, fps=30, size=SIZE)),
        shoppable,
        Case("audio first", encoder_args(gop=60, fps=30, size=SIZE, audio_first_s=2)),
        Case("reconnects", encoder_args(gop=30, fps=30, size=SIZE)),
    ]
    async with async_playwright() as pw:
        # Chromium starts while the server does (both take seconds on a busy machine).
        launching = asyncio.create_task(
            pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
        )
        try:
            async with (
                serve(db_url, grace_s=GRACE_S) as served,
                httpx.AsyncClient(base_url=served.base, timeout=10) as c,
            ):
                browser = await launching
                await _play_every_case(served, c, browser, make_actor, cases, shoppable)
        finally:
            with contextlib.suppress(Exception):
                await (await launching).close()
    for case in cases:
        assert case.errors == [], (case.name, case.errors)


async def _play_every_case(
    served: Served,
    c: httpx.AsyncClient,
    browser: Browser,
    make_actor: MakeActor,
    cases: list[Case],
    shoppable: Case,
) -> None:
    seller = await make_actor(Role.SELLER)
    # Each case's creator, products, show and key …
    for n, case in enumerate(cases):
        creator = await make_actor(Role.CREATOR)
        case.host = creator.headers
        case.products = [await product(c, seller, f"play{n}")]
        if case is shoppable:
            case.products.append(await product(c, seller, "tote", 2450))
        case.sid = (await session(c, creator, case.products))["id"]
        case.key = await new_key(c, creator)

    # … then the viewers, in every room at once, before the encoders go live.
    async def enter(case: Case) -> None:
        case.page = await open_room(browser, served.base, case)

    await asyncio.gather(*(enter(case) for case in cases))

    stop = asyncio.Event()  # the encoders stream until every viewer has seen what they must
    encoders = [asyncio.create_task(run_encoder(served, c, case, stop)) for case in cases]
    pins = asyncio.create_task(pin_two(c, shoppable))
    try:
        await asyncio.gather(*(plays(case.page) for case in cases if case.page))
        reconnecting = cases[-1]
        reconnected = reconnecting.page
        assert reconnected is not None

        async def after_reconnect() -> bool:  # the picture on screen is from the 2nd push
            back_ms = reconnecting.back_ms
            return back_ms is not None and bool((await player(reconnected))["at"] > back_ms)

        await eventually(after_reconnect, within=45, every=0.2)
    finally:
        stop.set()
        await asyncio.gather(*encoders, pins)

    async def all_ended() -> bool:
        states = [await video_state(c, case.sid) for case in cases]
        return all(s["state"] == "ended" and s["replay_url"] for s in states)

    await eventually(all_ended, within=GRACE_S + 15)

    # The replays, each to its end, from a fresh page — at 4x from their first frame, to be
    # quick (currentTime still has to move on by PLAYS_S of the video).
    async def replays(case: Case) -> None:
        assert case.page is not None
        await case.page.close()
        case.page = await open_room(browser, served.base, case)
        page = case.page

        async def fast() -> bool:
            return bool(await page.evaluate(FAST_JS))

        await eventually(fast, within=20, every=0.1)
        start = await plays(page)
        assert start["duration"] > PUSH_S - 4, case.name

        async def to_the_end() -> bool:
            now = await player(page)
            return bool(now["ended"] or now["t"] >= now["duration"] - 0.5)

        await eventually(to_the_end, within=20, every=0.2)

    await asyncio.gather(*(replays(case) for case in cases))
    assert shoppable.page is not None
    await shop_the_replay(shoppable.page, c, shoppable)


# The replay's player at 4x once it has its video (before, hls.js may still set it up).
FAST_JS = """() => { const v = document.querySelector("video.room-player");
  if (!v || !(v.duration > 0)) return false; v.playbackRate = 4; return true; }"""
