"""Plugging the live rooms into an app: broker, hub, the transport capture, shutdown."""

from __future__ import annotations

from fastapi import FastAPI

from liveshop.core.broker import Broker, make_broker
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.realtime.config import HubConfig
from liveshop.realtime.hub import Hub
from liveshop.realtime.ports import CommentStore, RoomDirectory
from liveshop.realtime.wire import CaptureWebSocketProtocol


def install_realtime(
    app: FastAPI,
    settings: Settings,
    db: Database,
    *,
    directory: RoomDirectory,
    store: CommentStore,
    config: HubConfig | None = None,
) -> Hub:
    """Create the broker (``LIVESHOP_BROKER_URL``) and hub at app creation.

    Nothing connects or starts here: the Redis client connects on first use and a room's
    tasks start when its first viewer joins, so apps driven without a lifespan (tests over
    ASGI) can still publish events.
    """
    broker: Broker = make_broker(settings.broker_url)
    hub = Hub(broker, db, config, directory=directory, store=store)
    app.state.broker = broker
    app.state.hub = hub
    app.add_middleware(CaptureWebSocketProtocol)
    return hub


async def shutdown_realtime(app: FastAPI) -> None:
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub is not None:
        await hub.close()
        await hub.broker.close()
