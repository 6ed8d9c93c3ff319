"""Tunables of the live-room hub (environment ``LIVESHOP_LIVE_*``); defaults fit production."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class HubConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVESHOP_LIVE_", extra="ignore")

    # "batched": one frame per room per tick, same bytes to every socket (see
    # docs/architecture.md). "naive": one send per event per viewer — a benchmark baseline.
    fanout: Literal["batched", "naive"] = "batched"
    # A bigger room gets a longer tick so frames/s per node stay under max_frames_per_s.
    # A node of several worker processes (``liveshop serve --workers N``) shares that
    # budget: each worker keeps to max_frames_per_s / workers.
    tick_min_s: float = 0.1
    tick_max_s: float = 0.35
    max_frames_per_s: int = 60_000
    workers: int = 1
    history_size: int = 1000  # per-room replay ring (broker and local)
    snapshot_comments: int = 50
    # Chat sampling: in rooms with at least sample_from_viewers local viewers, at most
    # comment_cap_per_s lines a second reach everyone (hosts' lines and your own always do).
    sample_from_viewers: int = 500
    comment_cap_per_s: float = 30.0
    # Client frames.
    max_frame_bytes: int = 4096
    tap_per_s: float = 20.0  # taps on a drop per socket (a tap is a claim request)
    comment_max_chars: int = 300
    comment_burst: int = 5
    comment_per_s: float = 1.0
    comment_linger_s: float = 0.02  # chat lines are stored in batches gathered this long
    like_per_s: float = 20.0
    flood_strikes: int = 5  # rate-limited comments before the socket is closed (1008)
    bad_frame_limit: int = 10  # malformed frames before the socket is closed (1008)
    # A socket whose unsent bytes pass this is dropped (1013), never waited for; checked
    # every buffer_check_every ticks (so the bound can be passed by that many frames).
    send_buffer_limit: int = 256 * 1024
    buffer_check_every: int = 4
    write_chunk: int = 2000  # sockets written between yields to the event loop
    drop_grace_s: float = 2.0  # then the transport is aborted if the close did not go out
    # Room chores: viewer counts, like totals (one leader node per room).
    viewers_interval_s: float = 1.0
    stats_interval_s: float = 10.0
    idle_room_grace_s: float = 5.0  # keep a room subscribed this long after its last viewer
    # Players send a heartbeat this often while their tab is visible and the video plays
    # (the audience counts them); the creator's sockets get the dashboard this often.
    heartbeat_s: float = 15.0
    dashboard_interval_s: float = 3.0
