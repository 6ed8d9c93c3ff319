"""Posters: one frame of the stream as a JPEG, taken by ffmpeg from a finished segment.

Segments are complete files once they are in the playlist, so reading one never races the
encoder; the poster is written to a temporary name and renamed, so a viewer never gets
half a JPEG.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from pathlib import Path

import structlog

log = structlog.get_logger("liveshop.video.thumbnails")

FFMPEG_TIMEOUT_S = 15.0
POSTER_WIDTH = 640


def ffmpeg_missing(ffmpeg_bin: str = "ffmpeg") -> bool:
    return shutil.which(ffmpeg_bin) is None


async def capture_poster(
    source: str | Path, poster: Path, *, ffmpeg_bin: str = "ffmpeg", width: int = POSTER_WIDTH
) -> bool:
    """Write the first frame of ``source`` (a segment file or a playlist URL) to ``poster``.

    False (and a log line) on failure."""
    tmp = poster.with_name(f".{poster.name}.{secrets.token_hex(4)}.jpg")
    try:
        proc = await asyncio.create_subprocess_exec(
            ffmpeg_bin,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(source),
            "-frames:v",
            "1",
            "-vf",
            f"scale={width}:-2",
            "-q:v",
            "4",
            str(tmp),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        log.warning("poster: ffmpeg could not start", error=str(exc))
        return False
    try:
        _, err = await asyncio.wait_for(proc.communicate(), FFMPEG_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        log.warning("poster: ffmpeg timed out", source=Path(str(source)).name)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        return False
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        log.warning(
            "poster: ffmpeg failed",
            source=Path(str(source)).name,
            rc=proc.returncode,
            error=err.decode("utf-8", "replace")[-300:],
        )
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        return False
    os.replace(tmp, poster)
    return True
