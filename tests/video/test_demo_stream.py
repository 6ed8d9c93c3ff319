"""``make run``'s demo video never touches a real creator's key: README's "Going live from
OBS" steps, followed verbatim for creator1 while the demo streams, work — also after the
demo's encoder restarts (it used to rotate creator1's key each time, and OBS got a 403)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import httpx

from liveshop.core.db import Database
from liveshop.core.settings import get_settings
from liveshop.demo import load_demo
from tests.video.helpers import eventually
from tests.video.served import push, serve

README = Path(__file__).resolve().parents[2] / "README.md"


def obs_steps() -> tuple[str, str]:
    """The server URL and the rotate call, as README's OBS section gives them."""
    section = README.read_text(encoding="utf-8").split("## Going live from OBS", 1)[1]
    section = section.split("\n## ", 1)[0]
    server = re.search(r"`(rtmp://[^`]+)`", section)
    rotate = re.search(r"`POST (/api/v1/[^`]+)`", section)
    assert server and rotate, section
    return server.group(1), rotate.group(1)


def demo_encoders(rtmp_port: int) -> list[int]:
    """The demo's ffmpeg processes (its test card into our media server)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmd
            and cmd[0].endswith(b"ffmpeg")
            and any(b"testsrc2" in a for a in cmd)
            and any(f":{rtmp_port}/live/".encode() in a for a in cmd)
        ):
            found.append(int(proc.name))
    return found


async def test_readme_obs_steps_work_for_creator1_while_the_demo_streams(
    db: Database, db_url: str
) -> None:
    demo = await load_demo(db)
    creator1, test_card = demo.show_ids["live"], demo.show_ids["teststream"]
    server_url, rotate_path = obs_steps()
    async with (
        serve(db_url, grace_s=10, extra_env={"LIVESHOP_DEMO_VIDEO": "1"}) as served,
        httpx.AsyncClient(base_url=served.base, timeout=10) as c,
    ):
        rtmp_port = int(served.rtmp.rsplit(":", 1)[1].split("/")[0])

        async def state(sid: int) -> object:
            return (await c.get(f"/api/v1/video/{sid}")).json()["state"]

        async def demo_receiving() -> bool:
            return await state(test_card) == "receiving"

        await eventually(demo_receiving, within=30)

        # 1. Server, 2. the key from a rotation, 3. Start Streaming.
        login = await c.post(
            "/api/v1/auth/login",
            json={"email": "creator1@liveshop.demo", "password": get_settings().demo_password},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        rotated = await c.post(rotate_path, headers=headers)
        assert rotated.status_code == 200, rotated.text
        key = rotated.json()["stream_key"]
        assert rotated.json()["rtmp_url"] == served.rtmp
        assert server_url.endswith("/live") and served.rtmp.endswith("/live")
        obs = await push(f"{served.rtmp}/{key}", 8)

        async def creator1_receiving() -> bool:
            return await state(creator1) == "receiving"

        await eventually(creator1_receiving)

        # The demo's encoder restarts meanwhile (as when ffmpeg dies): it takes a new key
        # for its own account only.
        first = demo_encoders(rtmp_port)
        assert first, "the demo is not streaming"
        for pid in first:
            os.kill(pid, signal.SIGTERM)

        async def demo_back() -> bool:
            now = demo_encoders(rtmp_port)
            return bool(now) and not set(now) & set(first) and await demo_receiving()

        await eventually(demo_back, within=20)
        _, err = await asyncio.wait_for(obs.communicate(), 30)
        assert obs.returncode == 0, err  # never refused, never cut off
        mine = (await c.get("/api/v1/video/stream-key", headers=headers)).json()
        assert mine["prefix"] == key[: len(mine["prefix"])]  # creator1's key is unchanged
