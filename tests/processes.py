"""A real server in a process of its own (``start_server``), for tests that kill it with
SIGKILL: uvicorn over the test's database on an inherited listening socket."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from liveshop.core.db import Database

DEADLINE_S = 30.0


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
        self.proc, self.base_url, self.log = proc, base_url, log


Start = Callable[[], Awaitable[Server]]


def _spawn(listener: socket.socket, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "liveshop.app:create_app",
                "--factory",
                "--fd",
                str(listener.fileno()),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )


@pytest.fixture
async def start_server(db: Database, tmp_path: Path) -> AsyncIterator[Start]:
    """``await start_server()``: uvicorn in a process of its own over the test's database, on
    an inherited listening socket (connections queue until it accepts them)."""
    started: list[Server] = []

    async def _start() -> Server:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.set_inheritable(True)
        port = int(listener.getsockname()[1])
        env = {
            **os.environ,
            "LIVESHOP_DATABASE_URL": db.url,
            "LIVESHOP_LOG_LEVEL": "WARNING",
            "LIVESHOP_SANDBOX_PAUSE_FILE": str(tmp_path / "pause"),
            "LIVESHOP_PAYMENT_RECOVERY_GRACE_SECONDS": "1",
            "LIVESHOP_PAYMENT_RECOVERY_SECONDS": "0.2",
            "LIVESHOP_RESERVATION_SWEEP_SECONDS": "0.2",
        }
        log = tmp_path / f"server-{len(started)}.log"
        proc = _spawn(listener, env, log)
        listener.close()  # the server's now: if it dies, connecting fails at once
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        started.append(server)
        async with httpx.AsyncClient(timeout=DEADLINE_S) as client:
            try:
                (await client.get(server.base_url + "/healthz")).raise_for_status()
            except httpx.HTTPError as exc:
                raise RuntimeError(f"the server did not come up:\n{log.read_text()}") from exc
        return server

    yield _start
    for server in started:
        if server.proc.poll() is None:
            server.proc.terminate()
            try:
                server.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.proc.kill()


async def until(what: str, check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds; fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
