"""Simulcast against a second local nginx-rtmp playing "the other platform": a destination
added in the studio (its URL and key stored encrypted, never shown again nor logged) gets the
creator's stream while live — ffprobe reads it there — with the relay's status per
destination, and a relay that loses the other platform retries until it is back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.video.media_server import RTMP_MODULE, find_nginx
from liveshop.video.simulcast import Target, seal, session_of_code, short_code, unseal
from tests.support import MakeActor
from tests.video.helpers import eventually, new_key, product, session, video_dir
from tests.video.served import codecs, encoder_args, push, serve

OTHER_KEY = "other-platform-KEY-7f3a9c"
PORTS = range(21100, 21200)  # this work tree's port range


def _port_in_range() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the range")


class OtherPlatform:
    """A bare nginx-rtmp that accepts any publisher and lets anyone play."""

    def __init__(self) -> None:
        self.dir = video_dir()
        self.port = _port_in_range()
        conf = self.dir / "nginx.conf"
        conf.write_text(
            f'load_module "{RTMP_MODULE}";\ndaemon off;\nmaster_process on;\n'
            f'worker_processes 1;\npid "{self.dir}/nginx.pid";\nerror_log stderr warn;\n'
            "events { worker_connections 64; }\n"
            f"rtmp {{ server {{ listen 127.0.0.1:{self.port};"
            " application live { live on; } } }\n"
        )
        self.conf = conf
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [find_nginx() or "nginx", "-p", str(self.dir), "-c", str(self.conf), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


@pytest.fixture
def other() -> Iterator[OtherPlatform]:
    platform = OtherPlatform()
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


def test_destinations_are_sealed_under_the_secret_key() -> None:
    a, b = Settings(secret_key="a" * 40), Settings(secret_key="b" * 40)
    token = seal(a, Target("rtmp://x.example/live", OTHER_KEY))
    assert OTHER_KEY not in token and "x.example" not in token
    assert unseal(a, token) == Target("rtmp://x.example/live", OTHER_KEY)
    assert unseal(b, token) is None


async def test_simulcast_reaches_the_other_platform_and_retries(
    db: Database, db_url: str, make_actor: MakeActor, other: OtherPlatform, tmp_path: Path
) -> None:
    async with (
        serve(db_url, grace_s=5) as served,
        httpx.AsyncClient(base_url=served.base, timeout=10) as c,
    ):
        seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
        stranger, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
        await session(c, creator, [await product(c, seller, "glow")])
        key = await new_key(c, creator)
        dest_url = f"rtmp://127.0.0.1:{other.port}/live"

        bad = await c.post(
            "/api/v1/video/simulcast",
            json={"label": "X", "url": f"{dest_url}/{OTHER_KEY}?k=1", "key": OTHER_KEY},
            headers=creator.headers,
        )
        assert bad.status_code == 422 and OTHER_KEY not in bad.text
        added = await c.post(
            "/api/v1/video/simulcast",
            json={"label": "Other platform", "url": dest_url, "key": OTHER_KEY},
            headers=creator.headers,
        )
        assert added.status_code == 201, added.text
        dest = added.json()
        assert OTHER_KEY not in added.text and "/live" not in added.text
        assert (dest["label"], dest["host"], dest["state"]) == ("Other platform", "127.0.0.1", None)
        async with db.engine.connect() as conn:
            stored = (
                await conn.execute(text("SELECT secret FROM video_simulcast_destinations"))
            ).scalar_one()
        assert OTHER_KEY not in stored and dest_url not in stored

        # Only its creator sees or removes it.
        assert (await c.get("/api/v1/video/simulcast", headers=stranger.headers)).json() == []
        gone = await c.delete(f"/api/v1/video/simulcast/{dest['id']}", headers=stranger.headers)
        assert gone.status_code == 404
        assert (await c.get("/api/v1/video/simulcast", headers=buyer.headers)).status_code == 403

        encoder = await push(
            f"{served.rtmp}/{key}", 40, encoder_args(gop=30, fps=30, size="320x180")
        )
        status: dict[str, Any] = {}

        async def relay_is(state: str) -> bool:
            listed = (await c.get("/api/v1/video/simulcast", headers=creator.headers)).json()
            status.update(listed[0])
            return bool(status["state"] == state)

        await eventually(lambda: relay_is("live"), within=30, every=0.3)
        # Kept on the destination's row: any process (here, this test's) reads the same.
        async with db.engine.connect() as conn:
            kept = (
                await conn.execute(text("SELECT relay_state FROM video_simulcast_destinations"))
            ).scalar_one()
        assert kept == "live"
        # The other platform really receives it: ffprobe reads the stream there.
        assert await codecs(f"{dest_url}/{OTHER_KEY}") == {"h264", "aac"}

        # The other platform goes away: the relay says so and retries until it is back.
        other.stop()
        try:
            await eventually(lambda: relay_is("retrying"), within=20, every=0.3)
        except TimeoutError:
            raise AssertionError(status) from None
        assert status["error"] and OTHER_KEY not in status["error"]
        other.start()
        await eventually(lambda: relay_is("live"), within=30, every=0.3)
        assert status["attempts"] >= 2

        encoder.terminate()
        await asyncio.wait_for(encoder.wait(), 10)
        await eventually(lambda: relay_is_none(c, creator.headers), within=20)
        assert OTHER_KEY not in served.log_text()  # nor its URL with the key in it


async def relay_is_none(c: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    listed = (await c.get("/api/v1/video/simulcast", headers=headers)).json()
    return bool(listed[0]["state"] is None)


def test_short_codes_stand_for_their_session() -> None:
    for sid in (1, 33, 34, 1234, 2**40 + 7):
        code = short_code(sid)
        assert session_of_code(code) == sid and session_of_code(code.upper()) == sid
        assert "l" not in code and "o" not in code
    assert [session_of_code(c) for c in ("", "0", "l1", "x" * 14, "a-b")] == [None] * 5
