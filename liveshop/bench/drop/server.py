"""A server process of the benchmark: the real app under uvicorn, production settings.

Run as ``python -m liveshop.bench.drop --node PORT CPU`` (see ``run.py``). Several processes
share the port (``SO_REUSEPORT``: the kernel spreads the connections), as ``uvicorn
--workers`` would, over Redis. Production settings: uvloop, httptools, no reload, no debug,
no access log, permessage-deflate off; the one difference is a keep-alive timeout of
120 s instead of uvicorn's 5 s, so a buyer's connection survives the pauses between the
benchmark's phases (a phone in a live room keeps its connection, too). On a PostgreSQL
whose ``max_connections`` cannot give every process the app's 20 + 20 pooled connections
(it is shared with other work), ``LIVESHOP_BENCH_DB_POOL`` caps a process's pool."""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import sys
from typing import Any

import uvicorn

from liveshop.app import create_app
from liveshop.bench.drop.options import DESK_COUNTERS
from liveshop.bench.fanout.options import pin_cpus, raise_nofile, run_loop
from liveshop.bench.fanout.server import listen
from liveshop.core.db import Database
from liveshop.core.settings import get_settings


def desk_stats(app: Any) -> dict[str, int]:
    """The node's claim desk counters: claims its taps got, transactions, memory answers."""
    desk = getattr(app.state, "claim_desk", None)
    if desk is None:
        return {}
    return {name: int(getattr(desk, name, 0)) for name in DESK_COUNTERS}


def node_main(port: int, cpu: int | None) -> None:
    pin_cpus({cpu} if cpu is not None else None)
    raise_nofile(1_048_576)
    pool = int(os.environ.get("LIVESHOP_BENCH_DB_POOL", "0"))
    settings = get_settings()
    if pool > 0 and not settings.is_sqlite:  # fewer connections than the app's 20 + 20
        half = max(1, pool // 2)
        db = Database(settings.database_url, pool_size=half, max_overflow=max(0, pool - half))
        app = create_app(settings, database=db)
    else:
        app = create_app()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=120,
        timeout_graceful_shutdown=3,
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
            await super().startup(sockets)  # type: ignore[arg-type]
            print(json.dumps({"ready": os.getpid()}), flush=True)  # serving now

    server = Server(config)

    async def control() -> None:
        """``STOP`` (or the end of stdin) shuts the server down; ``STATS`` prints this
        process's claim desk counters as one JSON line (``{"stats": …}``)."""
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "STOP":
                server.should_exit = True
                return
            if line.strip() == "STATS":
                print(json.dumps({"stats": desk_stats(app)}), flush=True)

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
    profiler.dump_stats(f"{profile_to}.{os.getpid()}")
