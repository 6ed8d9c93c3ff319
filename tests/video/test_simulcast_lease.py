"""A simulcast relay's status is a lease its process renews: while the process runs, the
studio shows the relay however long it lasts; when that process is killed mid-relay
(kill -9: nothing gets to clear the row), the studio shows it stopped once the lease has run
out, and the next process to start clears the row."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.settings import get_settings
from liveshop.video.models import SimulcastDestination
from liveshop.video.simulcast import clear_expired
from tests.support import Actor, MakeActor, app_client
from tests.video.helpers import eventually

LEASE_S = 1.5
SIMULCAST = "/api/v1/video/simulcast"

# The process that runs the relay: a Relay saving its status to the test's database, as the
# video manager does, to a destination that is not there (so it keeps retrying).
RELAY_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from liveshop.core.db import Database
    from liveshop.video.simulcast import Relay, Target, save_status

    url, dest_id, port, lease = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    async def main():
        db = Database(url)
        async def sink(dest, status):
            async with db.session() as s:
                await save_status(s, dest, status, lease_s=lease)
        relay = Relay(
            dest_id, "Other", "127.0.0.1", f"rtmp://127.0.0.1:{port}/hls/x",
            Target(f"rtmp://127.0.0.1:{port}/live", "k"), on_change=sink,
            renew_every_s=lease / 3,
        )
        relay.start()
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def studio(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An app process that does not run the relay: it only reads what the other one saved."""
    async with app_client(db, simulcast_lease_seconds=LEASE_S, video_provider="off") as c:
        yield c


async def _state(studio: httpx.AsyncClient, creator: Actor) -> Any:
    listed = await studio.get(SIMULCAST, headers=creator.headers)
    assert listed.status_code == 200, listed.text
    return listed.json()[0]["state"]


async def test_a_killed_relays_status_runs_out_and_is_cleared(
    studio: httpx.AsyncClient, db: Database, db_url: str, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR)
    port = _closed_port()
    added = await studio.post(
        SIMULCAST,
        json={"label": "Other", "url": f"rtmp://127.0.0.1:{port}/live", "key": "k-123"},
        headers=creator.headers,
    )
    assert added.status_code == 201, added.text
    dest_id = added.json()["id"]
    relay = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", RELAY_PROCESS, db_url, str(dest_id), str(port), str(LEASE_S)),
        env=os.environ.copy(),
    )
    try:

        async def relaying() -> bool:
            return await _state(studio, creator) in ("connecting", "retrying")

        await eventually(relaying, within=30, every=0.1)
        # Renewed while its process lives: still shown well past one lease.
        await asyncio.sleep(2 * LEASE_S)
        assert await relaying()
    finally:
        relay.send_signal(signal.SIGKILL)  # nothing gets to clear the row
        await asyncio.wait_for(relay.wait(), 10)

    async with db.session() as s:
        row = await s.scalar(select(SimulcastDestination).where(SimulcastDestination.id == dest_id))
        assert row is not None and row.relay_state in ("connecting", "retrying")

    async def stopped() -> bool:
        return await _state(studio, creator) is None

    await eventually(stopped, within=LEASE_S + 10, every=0.1)
    # The next process to start clears the dead relay's row.
    next_process = create_app(
        get_settings().model_copy(update={"video_provider": "off"}), database=db
    )
    await next_process.state.video.start()
    await next_process.state.video.stop()
    async with db.session() as s:
        assert await clear_expired(s, utcnow()) == 0  # nothing left to clear
    async with db.session() as s:
        row = await s.scalar(select(SimulcastDestination).where(SimulcastDestination.id == dest_id))
        assert row is not None and (row.relay_state, row.relay_lease_until) == (None, None)
