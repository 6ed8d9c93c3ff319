"""Live-room fixtures: real uvicorn servers on free ports, in the test's event loop."""

from __future__ import annotations

import asyncio
import io
import socket
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.realtime.config import HubConfig

# Fast chores so viewer counts show up within a test's patience; no room lingers.
FAST = {"viewers_interval_s": 0.1, "idle_room_grace_s": 0.2, "stats_interval_s": 0.2}

Serve = Callable[[FastAPI], Awaitable[str]]


def _pending_tasks() -> str:
    out = io.StringIO()
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.print_stack(limit=8, file=out)
    return out.getvalue()


def live_app(db: Database, *, broker_url: str = "memory://", **config: Any) -> FastAPI:
    settings = Settings(broker_url=broker_url, reservation_sweep_seconds=0, video_provider="off")
    app = create_app(settings, database=db)
    app.state.hub.config = HubConfig(**{**FAST, **config})
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``base = await serve(app)`` runs the app under uvicorn; ``base`` is its ws:// URL."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def _serve(app: FastAPI) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            lifespan="on",
            log_level="warning",
            # A handler still running when the test is over (a request its client gave up
            # on) is cancelled after this long instead of holding the shutdown open.
            timeout_graceful_shutdown=5,
            # uvicorn closes a kept-alive connection idle for 5 s; on a loaded machine the
            # test's client (same event loop) can take that long to send its next request on
            # a pooled connection, which then meets a closed socket (httpx.ReadError).
            timeout_keep_alive=60,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        running.append((server, task))
        async with asyncio.timeout(30):  # generous: a loaded CI machine starts slowly
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        return f"ws://127.0.0.1:{port}"

    yield _serve
    for server, _ in running:
        server.should_exit = True
    for _, task in running:
        done, _ = await asyncio.wait({task}, timeout=15)
        if not done:
            # Seen twice on a loaded machine (never alone): say what the server still waits
            # for, then give it the rest of a minute (a bounded wait, e.g. a lock timeout,
            # ends; a real hang still fails the test).
            warnings.warn(f"server still stopping after 15 s:\n{_pending_tasks()}", stacklevel=1)
            await asyncio.wait_for(task, 45)
        task.result()
