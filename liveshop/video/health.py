"""Stream health for the studio: what the ingest actually receives, and plain warnings.

Read from the newest HLS segment of the live stream (ffprobe, packets only — nothing is
decoded): picture size, frames per second, the bitrate, whether there is sound, and how far
apart keyframes are (every segment starts on one: nginx-rtmp cuts at keyframes, at least
``hls_fragment`` apart, so a segment's length is the keyframe interval when that is ≥ 1 s,
and the keyframes inside a segment tell shorter ones). Probed once per new segment.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from liveshop.video.hls import LIVE_PLAYLIST, SEGMENT_NAME, parse_playlist

PROBE_TIMEOUT_S = 5.0
KEYFRAME_MAX_S = 2.1  # OBS's recommended 2 s, or less
# Bits per pixel per frame below which H.264 at these settings looks blocky on a phone.
MIN_BITS_PER_PIXEL = 0.05
NO_PICTURE_AFTER_S = 8.0


@dataclass
class Health:
    receiving: bool
    has_video: bool | None = None
    has_audio: bool | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    kbps: int | None = None
    keyframe_interval_s: float | None = None
    segment: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def min_kbps(width: int, height: int, fps: float) -> int:
    return round(width * height * fps * MIN_BITS_PER_PIXEL / 1000)


def warnings_for(h: Health, *, receiving_for_s: float) -> list[str]:
    """Plain words for what is wrong with the settings (empty: nothing)."""
    out: list[str] = []
    if not h.receiving:
        return out
    if h.has_video is False or (h.has_video is None and receiving_for_s >= NO_PICTURE_AFTER_S):
        out.append(
            "No picture is arriving: your encoder sends no video. In OBS, add a video source "
            "(camera, window or display capture) to the scene."
        )
        return out
    if h.keyframe_interval_s is not None and h.keyframe_interval_s > KEYFRAME_MAX_S:
        out.append(
            f"Keyframes arrive {h.keyframe_interval_s:.1f} s apart: set OBS → Settings → Output "
            "→ Keyframe Interval to 1 s (2 s at most), so viewers start at once and stay "
            "close to live."
        )
    if h.width and h.height and h.fps and h.kbps is not None:
        needed = min_kbps(h.width, h.height, h.fps)
        if h.kbps < needed:
            out.append(
                f"{h.kbps} kbps is too low for {h.width}×{h.height} at {h.fps:.0f} fps: the "
                f"picture will look blocky. Use at least {needed} kbps (OBS → Output → "
                "Bitrate), or a smaller output resolution."
            )
    if h.has_audio is False:
        out.append("No sound is arriving: check the microphone in OBS's audio mixer.")
    return out


def _rate(text: str | None) -> float | None:
    if not text or "/" not in text:
        return None
    num, den = text.split("/", 1)
    with contextlib.suppress(ValueError, ZeroDivisionError):
        value = float(num) / float(den)
        return value if value > 0 else None
    return None


async def probe(path: Path, duration_s: float) -> dict[str, Any] | None:
    """What one segment holds (None if ffprobe is missing or fails)."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    proc = await asyncio.create_subprocess_exec(
        ffprobe, "-v", "error", "-of", "json",
        "-show_entries",
        "stream=index,codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate"
        ":packet=stream_index,pts_time,flags",
        str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), PROBE_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return None
    try:
        data: dict[str, Any] = json.loads(out or b"{}")
    except ValueError:
        return None
    streams = data.get("streams") or []
    packets = data.get("packets") or []
    # nginx-rtmp's PMT always lists a video and an audio stream: a track is there only if
    # its packets are.
    carried = {p.get("stream_index") for p in packets}
    video = next(
        (s for s in streams if s.get("codec_type") == "video" and s.get("index") in carried), None
    )
    audio = next(
        (s for s in streams if s.get("codec_type") == "audio" and s.get("index") in carried), None
    )
    result: dict[str, Any] = {
        "has_video": video is not None,
        "has_audio": audio is not None,
        "video_codec": video.get("codec_name") if video else None,
        "width": video.get("width") if video else None,
        "height": video.get("height") if video else None,
    }
    if video is not None:
        packets = [p for p in packets if p.get("stream_index") == video["index"]]
        times = sorted(float(p["pts_time"]) for p in packets if "pts_time" in p)
        keys = sorted(
            float(p["pts_time"]) for p in packets if "K" in p.get("flags", "") and "pts_time" in p
        )
        fps = len(times) / duration_s if duration_s > 0 and times else None
        result["fps"] = round(fps or _rate(video.get("avg_frame_rate")) or 0, 1) or None
        gaps = [b - a for a, b in itertools.pairwise(keys) if b > a]
        result["keyframe_gap_s"] = round(statistics.median(gaps), 2) if gaps else None
    with contextlib.suppress(OSError):
        if duration_s > 0:
            result["kbps"] = round(os.path.getsize(path) * 8 / duration_s / 1000)  # noqa: ASYNC240
    return result


class HealthReader:
    """Health of live streams from their HLS folders; probes each new segment once."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, dict[str, Any]]] = {}

    async def read(self, folder: Path, *, receiving: bool, receiving_for_s: float) -> Health:
        h = Health(receiving=receiving)
        if receiving:
            await self._fill(h, folder)
        h.warnings = warnings_for(h, receiving_for_s=receiving_for_s)
        return h

    async def _fill(self, h: Health, folder: Path) -> None:
        try:
            text = await asyncio.to_thread((folder / LIVE_PLAYLIST).read_text, encoding="utf-8")
        except OSError:
            return
        segments = [s for s in parse_playlist(text) if SEGMENT_NAME.fullmatch(s.uri)]
        if not segments:
            return
        # The newest segment may be the one just cut short by a reconnect: take the one
        # before it when there is one, it is whole.
        newest = segments[-2] if len(segments) > 1 else segments[-1]
        cached = self._last.get(str(folder))
        if cached is not None and cached[0] == newest.uri:
            found: dict[str, Any] | None = cached[1]
        else:
            found = await probe(folder / newest.uri, newest.duration)
            if found is not None:
                self._last[str(folder)] = (newest.uri, found)
        if found is None:
            return
        h.segment = newest.uri
        for key in ("has_video", "has_audio", "video_codec", "width", "height", "fps", "kbps"):
            setattr(h, key, found.get(key))
        # Keyframes inside a segment, if several; else each segment is a whole number of
        # keyframe intervals long, and the shortest recent whole one is one interval.
        recent = [s.duration for s in segments[-6:-1] or segments[-1:]]
        gap = found.get("keyframe_gap_s")
        h.keyframe_interval_s = gap if gap else round(min(recent), 2)
