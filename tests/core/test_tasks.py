"""Background loops survive a failed run but always stop on shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from liveshop.inventory.sweeper import ReservationSweeper
from liveshop.live.deals.wiring import DealClock


class Database:  # only what the loops hand to the code patched below
    pass


async def test_a_loop_stops_even_when_cancelling_its_database_call_raises_another_error(
    monkeypatch: Any,
) -> None:
    """A driver whose clean-up fails while the task is being cancelled raises an ordinary
    error in place of the cancellation; the loop must still end, or shutdown waits forever."""
    inside = asyncio.Event()
    failed_runs = 0
    give_up = False  # after a failed assertion: let a loop that ignored its cancel end

    async def stuck_database_call(*_: Any, **__: Any) -> int:
        nonlocal failed_runs
        if give_up:
            raise asyncio.CancelledError
        inside.set()
        if failed_runs == 0:  # the first run fails and the loop goes on
            failed_runs += 1
            raise RuntimeError("database restarting")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("rollback failed: connection closed") from None
        return 0

    monkeypatch.setattr(DealClock, "tick", stuck_database_call)
    monkeypatch.setattr(ReservationSweeper, "sweep_once", stuck_database_call)
    for loop in (DealClock(Database(), lambda: None), ReservationSweeper()):  # type: ignore[arg-type]
        failed_runs, inside = 0, asyncio.Event()
        if isinstance(loop, DealClock):
            loop.start(interval_s=0)
        else:
            loop.start(Database(), interval_s=0)  # type: ignore[arg-type]
        await inside.wait()
        inside.clear()
        await inside.wait()  # it went on after the failed run and is inside the call again
        # stop() swallows the cancellation it sends, so a timeout around it could not fire.
        stopping = asyncio.create_task(loop.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5)
        if not done:
            give_up = True
            stopping.cancel()
        assert done == {stopping}, f"{type(loop).__name__} did not stop"
