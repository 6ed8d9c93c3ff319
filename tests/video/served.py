"""``liveshop serve`` with the embedded media server in its own process (as ``make run``
starts it), and ffmpeg pushing over RTMP the way OBS does: for the end-to-end, playback and
simulcast tests."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import service_missing
from tests.video.helpers import eventually, free_port, media_tools_missing, video_dir


@dataclass
class Served:
    base: str
    rtmp: str
    video_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@asynccontextmanager
async def serve(
    db_url: str, *, grace_s: float, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """The app on free ports against ``db_url``, until the block ends."""
    problem = media_tools_missing()
    if problem:
        service_missing("nginx + RTMP module + ffmpeg", f"missing {problem}")
    for attempt in range(3):  # a free port taken by another process meanwhile: new ports
        served = _start(db_url, grace_s, extra_env)
        try:
            await eventually(lambda s=served: _up(s), within=120)  # busy 2-core machine
            break
        except (AssertionError, TimeoutError):
            await asyncio.to_thread(_stop, served)
            if attempt == 2 or "address already in use" not in served.log_text():
                print(served.log_text()[-3000:])
                raise
            shutil.rmtree(served.video_dir, ignore_errors=True)
    try:
        yield served
    finally:
        await asyncio.to_thread(_stop, served)
        print(served.log_text()[-8000:])  # shown when the test fails
        if keep := os.environ.get("LIVESHOP_VIDEO_TEST_LOG"):  # the whole log, for debugging
            shutil.copy(served.log_path, keep)
        shutil.rmtree(served.video_dir, ignore_errors=True)


def _start(db_url: str, grace_s: float, extra_env: dict[str, str] | None) -> Served:
    vdir = video_dir()
    port, rtmp_port = free_port(), free_port()
    env = {
        **os.environ,
        "LIVESHOP_DATABASE_URL": db_url,
        "LIVESHOP_VIDEO_PROVIDER": "embedded",
        "LIVESHOP_VIDEO_DIR": str(vdir),
        "LIVESHOP_RTMP_PORT": str(rtmp_port),
        "LIVESHOP_VIDEO_HTTP_PORT": str(free_port()),
        "LIVESHOP_VIDEO_GRACE_SECONDS": str(grace_s),
        "LIVESHOP_RESERVATION_SWEEP_SECONDS": "0",
        "LIVESHOP_LOG_LEVEL": "DEBUG",  # everything, nginx's info lines included
        **(extra_env or {}),
    }
    log_path = vdir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "liveshop.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return Served(
        f"http://127.0.0.1:{port}", f"rtmp://127.0.0.1:{rtmp_port}/live", vdir, log_path, process
    )


async def _up(served: Served) -> bool:
    """The app answers HTTP and nginx accepts RTMP."""
    assert served.process.poll() is None, served.log_text()[-3000:]
    try:
        async with httpx.AsyncClient(base_url=served.base) as c:
            if (await c.get("/healthz")).status_code != 200:
                return False
        port = int(served.rtmp.rsplit(":", 1)[1].split("/")[0])
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except (OSError, httpx.TransportError):
        return False
    writer.close()
    return True


def _stop(served: Served) -> None:
    process = served.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def encoder_args(
    *, gop: int = 25, fps: int = 25, size: str = "640x360", audio_first_s: float = 0
) -> list[str]:
    """ffmpeg's test picture and tone, H.264/AAC, a keyframe every ``gop`` frames (OBS's
    "keyframe interval"); ``audio_first_s``: the tone starts that long before the picture,
    as with an encoder whose camera comes up late."""
    picture = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}"]
    tone = ["-f", "lavfi", "-i", "sine=frequency=440"]
    if audio_first_s:
        inputs = [*tone, "-itsoffset", str(audio_first_s), *picture, "-map", "1:v", "-map", "0:a"]
    else:
        inputs = [*picture, *tone]
    return [
        *inputs,
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(gop),
        "-pix_fmt", "yuv420p", "-c:a", "aac",
    ]  # fmt: skip


async def push(
    rtmp_url: str, seconds: float, encoder: Sequence[str] | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
        *(encoder if encoder is not None else encoder_args()),
        "-t", str(seconds), "-f", "flv", rtmp_url,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def codecs(path: Path | str) -> set[str]:
    proc = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "json", str(path),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return {s["codec_name"] for s in json.loads(out).get("streams", [])}
