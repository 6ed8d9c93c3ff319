"""Plugging video into an app: the manager at creation, the media server in the lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.video.manager import VideoManager
from liveshop.video.redact import install_log_filters


def install_video(app: FastAPI, settings: Settings, db: Database) -> VideoManager:
    """Create the video manager (after ``install_live``: it uses the room hub).

    Nothing starts here; apps driven without a lifespan (tests over ASGI) serve the API
    and files with ingest off."""
    install_log_filters()
    manager = VideoManager(app, settings, db)
    app.state.video = manager
    return manager


async def start_video(app: FastAPI) -> None:
    """Start the provider (the embedded media server) and recover open streams. Never
    raises: without nginx/ffmpeg the log says video is off and the rest runs."""
    await app.state.video.start()


async def stop_video(app: FastAPI) -> None:
    manager: VideoManager | None = getattr(app.state, "video", None)
    if manager is not None:
        await manager.stop()
