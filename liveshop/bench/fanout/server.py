"""A server node of the benchmark: the real app under uvicorn, and the room it serves.

Run as ``python -m liveshop.bench.fanout --node PORT CPU DRIVE_STOCK`` (see ``run.py``); the
orchestrating process only calls :func:`prepare_room` (a live session and its commenters)."""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import socket
import sys
import time
from datetime import timedelta

import uvicorn

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role, TokenKind
from liveshop.app import create_app
from liveshop.bench.fanout.options import STOCK_SKUS, pin_cpus, raise_nofile, run_loop
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live import service as live
from liveshop.live.models import SessionStatus

# --- the server nodes ----------------------------------------------------------------------


async def prepare_room(db_url: str, commenters: int) -> tuple[int, list[str]]:
    """A creator with a live session, and signed-in commenters (their API tokens)."""
    db = Database(db_url)
    try:
        async with db.session() as s:
            creator = await accounts.create_user(
                s,
                email="creator@bench.invalid",
                password="bench-password",
                display_name="Bench creator",
                roles=[Role.CREATOR],
            )
            session = await live.create_session(
                s,
                creator_id=creator.id,
                title="Bench room",
                market_code="GB",
                planned_start=utcnow() + timedelta(minutes=1),
                planned_duration_minutes=60,
            )
            await live.transition(s, session, SessionStatus.LIVE)
            tokens = []
            for i in range(commenters):
                user = await accounts.create_user(
                    s,
                    email=f"viewer{i}@bench.invalid",
                    password="bench-password",
                    display_name=f"Viewer {i}",
                )
                issued = await accounts.issue_token(s, user, kind=TokenKind.API, name="bench")
                tokens.append(issued.token)
            return session.id, tokens
    finally:
        await db.dispose()


def listen(port: int) -> socket.socket:
    """The node's port, shared by its worker processes (the kernel spreads connections)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def node_main(port: int, cpu: int | None, drive_stock: bool) -> None:
    """One server process: the real app under uvicorn; the first also publishes stock."""
    pin_cpus({cpu} if cpu is not None else None)
    raise_nofile(1_048_576)
    app = create_app()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        ws_ping_interval=None,  # the counting viewers do not answer pings
        timeout_graceful_shutdown=3,
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            print(json.dumps({"ready": os.getpid()}), flush=True)  # serving now

    server = Server(config)

    async def drive(start_ms: float, seconds: float, rate: float, session_id: int) -> None:
        sent = 0
        n = int(seconds * rate)
        for i in range(n):
            at = start_ms + i * 1000.0 / rate
            await asyncio.sleep(max(0.0, (at - time.time() * 1000) / 1000))
            await app.state.hub.publisher.stock(
                session_id, sku_id=1 + i % STOCK_SKUS, available=n - i, ts=at
            )
            sent += 1
        print(json.dumps({"stock_sent": sent}), flush=True)

    async def control() -> None:
        """stdin: ``[start_ms, seconds, rate, session_id]`` starts the stock driver (node 0);
        ``STOP`` (or end of input) shuts the server down."""
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "STOP":
                server.should_exit = True
                for task in tasks:
                    task.cancel()
                return
            if drive_stock:
                tasks.append(asyncio.create_task(drive(*json.loads(line))))

    async def main() -> None:
        controller = asyncio.create_task(control())

        await server.serve(sockets=[listen(port)])
        controller.cancel()

    profile_to = os.environ.get("LIVESHOP_BENCH_PROFILE")
    if not profile_to:
        run_loop(main())
        return
    with cProfile.Profile() as profiler:
        run_loop(main())
    profiler.dump_stats(f"{profile_to}.{port}")
