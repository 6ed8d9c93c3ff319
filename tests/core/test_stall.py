"""The SQLite stall of a signed-in fuzz run, and the keep-alive connection after a 500
(issue 15, items 3 and 5).

What held the write lock for 30 s: authenticating a request read the token in the request's
session, which on SQLite begins ``IMMEDIATE`` (the write lock), and — when ``last_used_at``
was fresh — left that transaction open for the rest of the request. ``/healthz`` then pinged
on a second connection, whose ``BEGIN IMMEDIATE`` queued behind its own request's lock: the
request waited for itself for 30 s while every other writer queued behind it. Now the token
read ends its transaction, the ping never takes the write lock, and the write gate refuses a
task's second write transaction at once instead of letting it wait for itself.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.errors import install_error_handlers
from tests.live.conftest import Serve, live_app, serve
from tests.support import MakeActor

__all__ = ["serve"]


async def test_a_signed_in_health_check_never_waits_for_its_own_request(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = (await serve(live_app(db))).replace("ws://", "http://")
    buyer = await make_actor(Role.BUYER)
    async with httpx.AsyncClient(base_url=base, headers=buyer.headers, timeout=20) as http:
        for _ in range(3):  # the first use writes last_used_at; the next ones only read
            async with asyncio.timeout(5):
                assert (await http.get("/healthz")).status_code == 200
                assert (await http.get("/api/v1/me")).status_code == 200


async def test_a_task_never_waits_for_its_own_write_lock(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the write gate is SQLite's")
    async with db.session() as first:
        await first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this task holds the lock
        async with asyncio.timeout(5):  # refused at once, not after 30 s
            with pytest.raises(Exception, match="this very task"):
                async with db.session() as second:
                    await second.execute(text("SELECT 1"))
        await first.commit()
    # Others are let in as before; a read-only session never needs the lock.
    async with db.session() as first, db.session(deferred=True) as reader:
        await first.execute(text("SELECT 1"))
        await reader.execute(text("SELECT 1"))
        await first.commit()

    async def writer() -> None:
        async with db.session() as s:
            await s.execute(text("SELECT 1"))
            await s.commit()

    await asyncio.wait_for(asyncio.gather(*(writer() for _ in range(5))), 10)


async def test_the_connection_stays_usable_after_a_500(serve: Serve) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        return {"ok": True}

    port = int((await serve(app)).rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def get(path: str) -> tuple[int, bytes]:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        return int(head.split(b" ")[1]), await reader.readexactly(length)

    try:  # one keep-alive connection throughout
        status, body = await get("/boom")
        assert status == 500 and b"internal-error" in body
        assert await get("/fine") == (200, b'{"ok":true}')
        assert (await get("/boom"))[0] == 500
        assert (await get("/fine"))[0] == 200
    finally:
        writer.close()
