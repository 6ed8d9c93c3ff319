"""`make run`'s demo stream: ffmpeg's test card and tone pushed over RTMP into the demo's own
live session, exactly as OBS would (through the embedded nginx, the key check and HLS).

Started by the app when ``LIVESHOP_DEMO_VIDEO=1`` (``make run`` sets it). It streams as the
demo's test-card account (``teststream@liveshop.demo``, whose live session ``liveshop demo
load`` creates) and rotates *that* account's stream key to get a key it knows — never a
creator's: README's OBS steps (rotate creator1's key, paste it) keep working while it runs.
It restarts ffmpeg if it exits. Without ffmpeg, the media server or the demo account it logs
why and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

import structlog
from fastapi import FastAPI
from sqlalchemy import select

from liveshop.accounts.service import find_user_by_email
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.video.service import rotate_key

log = structlog.get_logger("liveshop.video.demo")

# The demo's test-card account (``liveshop.demo`` creates it and its live session).
DEMO_STREAM_EMAIL = "teststream@liveshop.demo"


def ffmpeg_command(rtmp_url: str) -> list[str]:
    return [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=540x960:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-b:v",
        "800k",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "flv",
        rtmp_url,
    ]


class DemoPusher:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if shutil.which("ffmpeg") is None:
            log.warning("demo video off: ffmpeg is not installed (make run installs it as root)")
            return
        video = getattr(self.app.state, "video", None)
        if video is None or not getattr(video.provider, "ingest", False):
            log.warning("demo video off: the media server is not running")
            return
        self._task = asyncio.create_task(self._run(), name="demo-video")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _key_for_live_demo(self) -> str | None:
        """A fresh key of the test-card account, if it has a live session to stream into."""
        db = self.app.state.db
        async with db.session() as s:
            account = await find_user_by_email(s, DEMO_STREAM_EMAIL)
            if account is None:
                await s.rollback()
                return None
            live = await s.scalar(
                select(LiveSession.id)
                .where(
                    LiveSession.creator_id == account.id,
                    LiveSession.status == SessionStatus.LIVE,
                )
                .limit(1)
            )
            if live is None:
                await s.rollback()
                return None
            issued = await rotate_key(s, account.id)
            await s.commit()
            return issued.key

    async def _run(self) -> None:
        settings = self.app.state.settings
        backoff = 1.0
        while True:
            key = await self._key_for_live_demo()
            if key is None:
                log.info(
                    "demo video: no live test-card session to stream into "
                    "(`liveshop demo load` creates it)",
                    account=DEMO_STREAM_EMAIL,
                )
                return
            url = f"rtmp://127.0.0.1:{settings.rtmp_port}/live/{key}"
            proc = await asyncio.create_subprocess_exec(
                *ffmpeg_command(url),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            log.info("demo video: pushing ffmpeg's test source", pid=proc.pid)
            try:
                _, err = await proc.communicate()
            except asyncio.CancelledError:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.wait(), 5)
                raise
            text = err.decode(errors="replace").replace(key, key[:6] + "…") if err else ""
            tail = text.strip().splitlines()[-1:]
            log.warning("demo video: ffmpeg stopped; restarting", code=proc.returncode, why=tail)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
