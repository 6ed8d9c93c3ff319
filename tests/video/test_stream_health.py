"""Studio stream health, read from what the ingest really receives (nginx + ffmpeg): a push
with wrong settings (keyframes 4 s apart, 150 kbps for 1280×720, no sound) gets a plain
warning for each; sensible settings get none; only the show's hosts may ask."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.video.health import Health, warnings_for
from tests.support import MakeActor
from tests.video.helpers import eventually, new_key, product, session
from tests.video.served import push, serve

BAD = [
    "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=30",
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "120",
    "-b:v", "150k", "-maxrate", "150k", "-bufsize", "300k", "-pix_fmt", "yuv420p", "-an",
]  # fmt: skip
GOOD = [
    "-f", "lavfi", "-i", "testsrc=size=640x360:rate=30", "-f", "lavfi", "-i", "sine",
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
    "-b:v", "1000k", "-pix_fmt", "yuv420p", "-c:a", "aac",
]  # fmt: skip


async def test_health_reads_the_ingest_and_warns_in_plain_words(
    db: Database, db_url: str, make_actor: MakeActor
) -> None:
    async with (
        serve(db_url, grace_s=10) as served,
        httpx.AsyncClient(base_url=served.base, timeout=10) as c,
    ):
        seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
        other = await make_actor(Role.CREATOR)
        sid = (await session(c, creator, [await product(c, seller, "glow")]))["id"]
        key = await new_key(c, creator)
        url = f"/api/v1/video/{sid}/health"

        idle = (await c.get(url, headers=creator.headers)).json()
        assert (idle["receiving"], idle["warnings"]) == (False, [])
        assert (await c.get(url)).status_code == 401
        assert (await c.get(url, headers=other.headers)).status_code in (403, 404)

        bad = await push(f"{served.rtmp}/{key}", 30, BAD)
        seen: dict[str, Any] = {}

        async def probed() -> bool:
            seen.update((await c.get(url, headers=creator.headers)).json())
            return seen["width"] is not None and len(seen["warnings"]) >= 3

        try:
            await eventually(probed, within=30, every=0.5)
        except TimeoutError:
            raise AssertionError(seen) from None
        assert (seen["width"], seen["height"], seen["has_video"]) == (1280, 720, True)
        assert seen["has_audio"] is False and seen["playlist_ready"] is True
        assert seen["keyframe_interval_s"] >= 3.5
        assert seen["kbps"] < 400 and 25 <= seen["fps"] <= 35
        assert seen["preview_url"] == f"/video/{sid}/index.m3u8"
        text = " ".join(seen["warnings"])
        assert "Keyframe Interval to 1 s" in text
        assert "too low for 1280×720" in text
        assert "No sound" in text
        bad.terminate()
        await asyncio.wait_for(bad.wait(), 10)

        async def reconnecting() -> bool:
            return (await c.get(url, headers=creator.headers)).json()["state"] == "reconnecting"

        await eventually(reconnecting)
        good = await push(f"{served.rtmp}/{key}", 8, GOOD)
        fine: dict[str, Any] = {}

        async def probed_good() -> bool:
            fine.update((await c.get(url, headers=creator.headers)).json())
            return fine["width"] == 640 and fine["has_audio"] is True

        await eventually(probed_good, within=20, every=0.5)
        assert fine["warnings"] == [], fine
        assert fine["keyframe_interval_s"] <= 1.2
        good.terminate()
        await asyncio.wait_for(good.wait(), 10)


def test_no_picture_is_said_once_the_encoder_has_had_time() -> None:
    quiet = Health(receiving=True)
    assert warnings_for(quiet, receiving_for_s=2) == []
    [only] = warnings_for(quiet, receiving_for_s=10)
    assert only.startswith("No picture is arriving")
    sharp = Health(
        receiving=True, has_video=True, has_audio=True, width=1080, height=1920, fps=30,
        kbps=4000, keyframe_interval_s=2.0,
    )  # fmt: skip
    assert warnings_for(sharp, receiving_for_s=30) == []
    sharp.kbps = 2000
    assert "at least 3110 kbps" in warnings_for(sharp, receiving_for_s=30)[0]
