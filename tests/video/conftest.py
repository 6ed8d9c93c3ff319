"""Video fixtures: an app whose callbacks work without nginx (ASGI tests).

The media server itself is tested with the real nginx and ffmpeg in test_media_server.py
and test_ingest_e2e.py; here the callbacks are driven the way nginx calls them.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.realtime.wiring import shutdown_realtime
from liveshop.video.provider import callback_secret
from tests.video.helpers import video_dir

GRACE_S = 0.5


@pytest.fixture
async def video_app(db: Database) -> AsyncIterator[FastAPI]:
    root = video_dir()
    settings = Settings(
        video_provider="embedded",
        video_dir=root,
        video_grace_seconds=GRACE_S,
        reservation_sweep_seconds=0,
    )
    app = create_app(settings, database=db)
    app.state.video.provider.ingest = True  # as if nginx were running
    try:
        yield app
    finally:
        await app.state.video.stop()
        await shutdown_realtime(app)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def vclient(video_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=video_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def secret() -> str:
    return callback_secret(Settings())


async def nginx_calls(
    client: httpx.AsyncClient,
    call: str,
    key: str,
    *,
    client_id: str = "1",
    secret_value: str | None = None,
    **extra: Any,
) -> httpx.Response:
    """POST a callback exactly as nginx-rtmp does (form fields, secret in the query)."""
    form = {
        "app": "live",
        "flashver": "FMLE/3.0",
        "tcurl": "rtmp://127.0.0.1:1935/live",
        "addr": "127.0.0.1",
        "clientid": client_id,
        "call": call,
        "name": key,
        "type": "live",
    }
    path = "on_publish" if call == "publish" else "on_publish_done"
    s = secret() if secret_value is None else secret_value
    return await client.post(f"/internal/video/{path}?s={s}", data=form, **extra)
