"""A real server killed with SIGKILL in the middle of a drop: every claim it acknowledged is
in the database after the crash, nothing was taken that was not acknowledged or is not held,
and a restarted server goes on selling — the acknowledged claims pay, the rest of the units
are still on offer (both databases)."""

from __future__ import annotations

import asyncio
import signal

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.live.deals.models import ClaimStatus, DealClaim
from tests.live.deals.drops import CARD, open_drop, stock_identity, tap
from tests.processes import DEADLINE_S, Start, until
from tests.support import MakeActor

UNITS = 400


async def test_sigkill_mid_drop_keeps_every_acknowledged_claim(
    db: Database, make_actor: MakeActor, start_server: Start
) -> None:
    first = await start_server()
    async with httpx.AsyncClient(base_url=first.base_url, timeout=DEADLINE_S) as http:
        drop = await open_drop(http, make_actor, stock=UNITS, units=UNITS, slug="kill-drop")
        buyers = [await make_actor(Role.BUYER) for _ in range(20)]

    acknowledged: list[dict[str, object]] = []
    owners: dict[object, int] = {}  # claim id -> the tapper's buyer index

    async def tapper(buyer_index: int) -> None:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(
            base_url=first.base_url, timeout=DEADLINE_S, limits=limits
        ) as client:
            while True:
                try:
                    got = await tap(client, drop.deal_id, buyers[buyer_index])
                except httpx.TransportError:
                    return  # the server is gone: this tap was never answered
                if got.status_code == 201:
                    acknowledged.append(got.json())
                    owners[got.json()["claim_id"]] = buyer_index
                elif got.status_code == 409:
                    return

    tappers = [asyncio.create_task(tapper(i)) for i in range(len(buyers))]

    async def some_answered() -> bool:
        return len(acknowledged) >= 40

    await until("some claims to be acknowledged", some_answered)
    first.proc.send_signal(signal.SIGKILL)
    assert first.proc.wait(timeout=DEADLINE_S) == -signal.SIGKILL
    await asyncio.gather(*tappers)

    async with db.session(deferred=True) as s:
        rows = (await s.execute(select(DealClaim.id, DealClaim.quantity, DealClaim.status))).all()
        claimed = int(
            await s.scalar(
                select(func.coalesce(func.sum(DealClaim.quantity), 0)).where(
                    DealClaim.deal_id == drop.deal_id
                )
            )
            or 0
        )
    stored = {claim_id: (quantity, status) for claim_id, quantity, status in rows}
    for answer in acknowledged:
        assert stored[answer["claim_id"]] == (1, ClaimStatus.HELD)  # type: ignore[index]
    assert len(stored) >= len(acknowledged)  # a batch may commit before its answers left
    _available, held, sold, received = await stock_identity(db, drop.sku_id)
    assert (held, sold, received) == (UNITS, 0, UNITS)  # the deal's hold and its claims

    second = await start_server()
    async with httpx.AsyncClient(base_url=second.base_url, timeout=DEADLINE_S) as http:
        some = acknowledged[0]
        owner = buyers[owners[some["claim_id"]]]
        paid = await http.post(
            f"/api/v1/live/claims/{some['claim_id']}/pay",
            json={"card_number": CARD},
            headers=owner.headers,
        )
        assert paid.status_code == 201 and paid.json()["status"] == "paid", paid.text
        more = await tap(http, drop.deal_id, buyers[0])
        assert more.status_code == 201, more.text  # units were left: the drop goes on
    assert claimed < UNITS
    _available, held, sold, received = await stock_identity(db, drop.sku_id)
    assert (held + sold, sold) == (UNITS, 1)
