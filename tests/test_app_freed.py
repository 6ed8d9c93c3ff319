"""An app that has run and stopped is freed with its last reference: nothing in a module keeps
it (and its routes, engines and caches) alive. A server process builds one app, but the test
suite builds hundreds per worker; one kept alive each time grew a worker to ~2 GB and made
every full garbage collection a pause of seconds (a server start or a request timed out)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import httpx

from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings


async def _run_once(db: Database) -> weakref.ref[object]:
    app = create_app(Settings(reservation_sweep_seconds=0, video_provider="off"), database=db)

    async def serve() -> None:  # in a task of its own, as a server runs the lifespan
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                assert (await c.get("/healthz")).status_code == 200

    await asyncio.create_task(serve())
    return weakref.ref(app)


async def test_an_app_that_ran_and_stopped_is_freed(db: Database) -> None:
    gone = await _run_once(db)
    gc.collect()
    assert gone() is None
