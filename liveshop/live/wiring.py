"""Plugging the live sessions into the realtime engine: the hub gets the session domain's
room directory and comment store."""

from __future__ import annotations

from fastapi import FastAPI

from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.live.activity import SessionComments
from liveshop.live.room_directory import LiveRoomDirectory
from liveshop.realtime.config import HubConfig
from liveshop.realtime.hub import Hub
from liveshop.realtime.wiring import install_realtime


def install_live(
    app: FastAPI, settings: Settings, db: Database, *, config: HubConfig | None = None
) -> Hub:
    """The node's hub (broker, rooms, the room socket's transport capture), its rooms
    answered for by the live sessions. Chat's checks are handed in by ``install_chat``."""
    return install_realtime(
        app,
        settings,
        db,
        directory=LiveRoomDirectory(db),
        store=SessionComments(),
        config=config,
    )
