"""What the video API answers (it takes no JSON bodies)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from liveshop.core.types import Line


class StreamKeyOut(BaseModel):
    """Your stream key as pages show it: the prefix, never the key."""

    has_key: bool
    prefix: str | None
    created_at: datetime | None
    rtmp_url: str | None  # OBS "Server"; None while video ingest is off
    provider: str


class NewStreamKeyOut(BaseModel):
    """A new key. ``stream_key`` is shown this once: paste it into OBS now."""

    stream_key: str
    prefix: str
    created_at: datetime
    rtmp_url: str | None


class VideoOut(BaseModel):
    session_id: int
    session_status: str
    state: str | None  # receiving, reconnecting, ended; None before any video
    playlist_url: str | None
    # The live playlist has its first segment (players ask for it only then: no 404s).
    playlist_ready: bool = False
    replay_url: str | None
    poster_url: str
    duration_ms: int


class TimelineEntryOut(BaseModel):
    offset_ms: int
    kind: str
    product_id: int | None
    data: dict[str, Any]


class ReplayProductOut(BaseModel):
    """A product of the replay at its normal price in the session's market."""

    product_id: int
    title: str
    image_url: str | None
    currency: str
    price_minor: int | None
    price_display: str | None
    url: str  # the normal product page: buying there is at the normal price


class TimelineOut(BaseModel):
    session_id: int
    session_status: str
    duration_ms: int
    replay_url: str | None
    poster_url: str
    entries: list[TimelineEntryOut]
    products: list[ReplayProductOut]


class StreamHealthOut(BaseModel):
    """What the ingest receives from the creator's encoder, and what to fix (plain words)."""

    session_id: int
    state: str | None  # receiving, reconnecting, ended; None before any video
    receiving: bool
    preview_url: str | None  # the live playlist: the studio's preview of the outgoing video
    playlist_ready: bool
    has_video: bool | None
    has_audio: bool | None
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    kbps: int | None  # everything received (picture and sound)
    keyframe_interval_s: float | None
    warnings: list[str]


class SimulcastIn(BaseModel):
    """Another platform's RTMP ingest: its server URL and your stream key there."""

    model_config = ConfigDict(extra="forbid")
    label: Annotated[Line, StringConstraints(max_length=60)] = ""
    url: Annotated[Line, StringConstraints(min_length=8, max_length=500)]
    key: Annotated[Line, StringConstraints(min_length=1, max_length=512)]


class SimulcastOut(BaseModel):
    """A destination as pages show it: never its URL path or key (they are not readable)."""

    id: int
    label: str
    host: str
    created_at: datetime
    # While live: connecting, live, retrying or stopped; None when not relaying.
    state: str | None = None
    attempts: int = 0
    error: str | None = None
