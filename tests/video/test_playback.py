"""Any encoder's stream plays, live and as a replay, in real Chromium with the room's own
player (hls.js): OBS's recommended ``-g 60`` (a keyframe every 2 s), the demo's ``-g 25``,
an encoder whose sound starts before its picture, and one that drops and reconnects.

One server per database and all four pushes at once (each its own creator and session),
viewers already in the room when the encoder goes live. Each picture must have real size
and ``currentTime`` must move on by seconds; the reconnecting one must play on after its
encoder is back; every replay must play to its end, across the discontinuity.
"""

from __future__ import annotations

import asyncio
import os
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
PUSH_S = 7
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


async def player(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate(PLAYER_JS)
    return state


async def plays(page: Page, *, within: float = 20) -> dict[str, Any]:
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


async def run_encoder(served: Served, c: httpx.AsyncClient, case: Case) -> float | None:
    """Push; the reconnecting case pushes twice. Returns when its second push began (ms)."""
    url = f"{served.rtmp}/{case.key}"
    if case.name != "reconnects":
        proc = await push(url, PUSH_S, case.encoder)
        _, err = await proc.communicate()
        assert proc.returncode == 0, err
        return None
    proc = await push(url, PUSH_S / 2, case.encoder)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err

    async def reconnecting() -> bool:
        return (await video_state(c, case.sid))["state"] == "reconnecting"

    await eventually(reconnecting)
    back_ms = time.time() * 1000
    proc = await push(url, PUSH_S / 2, case.encoder)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err
    return back_ms


async def test_every_encoder_plays_live_and_as_replay(
    db: Database, db_url: str, make_actor: MakeActor
) -> None:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat, before anything runs
        service_missing("Chromium", f"{CHROMIUM} is missing (run `make system-deps` as root)")
    cases = [
        Case("obs -g 60", encoder_args(gop=60, fps=30, size=SIZE)),
        Case("demo -g 25", encoder_args(gop=25, fps=25, size=SIZE)),
        Case("audio first", encoder_args(gop=60, fps=30, size=SIZE, audio_first_s=2)),
        Case("reconnects", encoder_args(gop=30, fps=30, size=SIZE)),
    ]
    async with (
        serve(db_url, grace_s=GRACE_S) as served,
        httpx.AsyncClient(base_url=served.base, timeout=10) as c,
        async_playwright() as pw,
    ):
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        seller = await make_actor(Role.SELLER)
        for n, case in enumerate(cases):
            creator = await make_actor(Role.CREATOR)
            pid = await product(c, seller, f"play{n}")
            case.sid = (await session(c, creator, [pid]))["id"]
            case.key = await new_key(c, creator)
            # Viewers are in the room before the encoder goes live.
            case.page = await open_room(browser, served.base, case)

        encoders = [asyncio.create_task(run_encoder(served, c, case)) for case in cases]
        await asyncio.gather(*(plays(case.page) for case in cases if case.page))
        back_ms = (await asyncio.gather(*encoders))[-1]
        assert back_ms is not None
        reconnected = cases[-1].page
        assert reconnected is not None

        async def after_reconnect() -> bool:  # the picture on screen is from the 2nd push
            return bool((await player(reconnected))["at"] > back_ms)

        await eventually(after_reconnect, within=15, every=0.2)

        async def all_ended() -> bool:
            states = [await video_state(c, case.sid) for case in cases]
            return all(s["state"] == "ended" and s["replay_url"] for s in states)

        await eventually(all_ended, within=GRACE_S + 15)

        # The replays, each to its end (at 4x, to be quick), from a fresh page.
        async def replays(case: Case) -> None:
            assert case.page is not None
            await case.page.close()
            case.page = await open_room(browser, served.base, case)
            start = await plays(case.page)
            assert start["duration"] > PUSH_S - 4, case.name
            await case.page.evaluate(
                "() => { document.querySelector('video.room-player').playbackRate = 4; }"
            )

            async def to_the_end() -> bool:
                now = await player(case.page)  # type: ignore[arg-type]
                return bool(now["ended"] or now["t"] >= now["duration"] - 0.5)

            await eventually(to_the_end, within=20, every=0.2)

        await asyncio.gather(*(replays(case) for case in cases))
        await browser.close()
    for case in cases:
        assert case.errors == [], (case.name, case.errors)
