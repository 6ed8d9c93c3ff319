"""A real server killed with SIGKILL while a batch of claims is being paid (the pay desk has
ordered them and asked the provider, which has recorded the charge but not answered): after a
restart nothing is stuck — the recovery pays what was charged, each buyer's retry answers
their one order (never a second charge), and the stock, the deal's count and the ledger add up
(both databases)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.live.deals.models import FlashDeal
from liveshop.orders.models import Payment, PaymentStatus
from liveshop.orders.payments.sandbox_charges import SandboxCharge
from tests.live.deals.drops import CARD, open_drop, stock_identity, tap
from tests.processes import DEADLINE_S, Start, until
from tests.support import Actor, MakeActor


async def _count(db: Database, stmt: object) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(stmt) or 0)  # type: ignore[call-overload]


async def _pay(base_url: str, buyer: Actor, claim_id: int) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=DEADLINE_S) as client:
        return await client.post(
            f"/api/v1/live/claims/{claim_id}/pay",
            json={"card_number": CARD},
            headers=buyer.headers,
        )


async def test_sigkill_mid_pay_batch_leaves_nothing_stuck(
    db: Database, make_actor: MakeActor, start_server: Start, tmp_path: Path
) -> None:
    first = await start_server()
    buyers = [await make_actor(Role.BUYER) for _ in range(3)]
    async with httpx.AsyncClient(base_url=first.base_url, timeout=DEADLINE_S) as http:
        drop = await open_drop(http, make_actor, stock=10, units=3, slug="kill-pay")
        claims = []
        for buyer in buyers:
            got = await tap(http, drop.deal_id, buyer)
            assert got.status_code == 201, got.text
            claims.append(int(got.json()["claim_id"]))

    (tmp_path / "pause").touch()  # the sandbox records each charge, then does not answer
    in_flight = [
        asyncio.create_task(_pay(first.base_url, b, c)) for b, c in zip(buyers, claims, strict=True)
    ]
    processing = select(func.count()).where(Payment.status == PaymentStatus.PROCESSING)
    charges = select(func.count()).select_from(SandboxCharge)

    async def a_batch_at_the_provider() -> bool:
        asked = await _count(db, processing)
        return asked >= 1 and await _count(db, charges) == asked

    await until("a batch of payments processing at the provider", a_batch_at_the_provider)
    first.proc.send_signal(signal.SIGKILL)
    assert first.proc.wait(timeout=DEADLINE_S) == -signal.SIGKILL
    answers = await asyncio.gather(*in_flight, return_exceptions=True)
    assert all(isinstance(a, httpx.TransportError) for a in answers), answers
    (tmp_path / "pause").unlink()
    # What the crash left: orders with their payments in flight, nothing sold yet.
    assert await _count(db, processing) >= 1
    assert (await stock_identity(db, drop.sku_id))[2] == 0

    second = await start_server()
    paid: dict[int, int] = {}

    async def every_buyer_paid() -> bool:  # 409 only while a stuck payment is still fresh
        for buyer, claim_id in zip(buyers, claims, strict=True):
            if claim_id in paid:
                continue
            got = await _pay(second.base_url, buyer, claim_id)
            assert got.status_code in (200, 201, 409), got.text
            if got.status_code in (200, 201) and got.json()["status"] == "paid":
                paid[claim_id] = int(got.json()["id"])
        return len(paid) == len(claims)

    await until("every buyer's claim paid (recovered or retried)", every_buyer_paid)
    assert len(set(paid.values())) == 3
    async with db.session(deferred=True) as s:
        rows = (await s.execute(select(Payment.order_id, Payment.status))).all()
        sold = await s.scalar(select(FlashDeal.sold).where(FlashDeal.id == drop.deal_id))
    # One successful charge per order. A payment the kill caught before the provider had
    # recorded its charge (a later batch) was resolved as failed, and the retry paid.
    succeeded = sorted(o for o, status in rows if status == PaymentStatus.SUCCEEDED)
    assert succeeded == sorted(paid.values())
    assert all(status == PaymentStatus.FAILED for _o, status in rows if status != "succeeded")
    assert sold == 3
    available, held, sold_units, received = await stock_identity(db, drop.sku_id)
    assert (available, held, sold_units) == (7, 0, 3) and received == 10
