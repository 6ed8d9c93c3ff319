"""A real server killed with SIGKILL mid-payment; after a restart nothing is stuck (both DBs).

Two buyers pay at once: one with a card that succeeds, one with a card that is declined. The
sandbox is paused (``LIVESHOP_SANDBOX_PAUSE_FILE``) after recording each charge and before
answering; once both payments are ``processing`` in the database and both charges recorded,
the server process is killed with SIGKILL. Then: nothing moved by itself (still processing,
units still held), and a restarted server — its recovery loop and the buyer's retry — ends
the charged order paid and the declined one payable again, then paid by the retry. Stock
identity and the ledger hold at the end.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.orders.models import Order, Payment, PaymentStatus
from liveshop.orders.payments.sandbox import CARD_DECLINED, CARD_SUCCEEDS
from liveshop.orders.payments.sandbox_charges import SandboxCharge
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import MakeStore, stock_of, trial_balance
from tests.processes import DEADLINE_S, Start, until
from tests.support import Actor, MakeActor


async def _count(db: Database, stmt: object) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(stmt) or 0)  # type: ignore[call-overload]


async def _order_status(db: Database, order_id: int) -> str:
    async with db.session(deferred=True) as s:
        return str(await s.scalar(select(Order.status).where(Order.id == order_id)))


async def _checkout(client: httpx.AsyncClient, buyer: Actor, sku_id: int) -> int:
    placed = await client.post(
        "/api/v1/checkout",
        json={"market": "GB", "lines": [{"sku_id": sku_id, "quantity": 1}]},
        headers={**buyer.headers, "Idempotency-Key": f"kill-{buyer.id}"},
    )
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


async def _pay(base_url: str, buyer: Actor, order_id: int, card: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=DEADLINE_S) as client:
        return await client.post(
            f"/api/v1/orders/{order_id}/pay", json={"card_number": card}, headers=buyer.headers
        )


async def test_sigkill_mid_payment_leaves_nothing_stuck(
    db: Database,
    make_store: MakeStore,
    make_actor: MakeActor,
    start_server: Start,
    tmp_path: Path,
) -> None:
    store = await make_store(stock=5)
    lucky, declined = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    first = await start_server()
    async with httpx.AsyncClient(base_url=first.base_url, timeout=DEADLINE_S) as client:
        lucky_order = await _checkout(client, lucky, store.sku_id)
        declined_order = await _checkout(client, declined, store.sku_id)

    (tmp_path / "pause").touch()
    in_flight = [
        asyncio.create_task(_pay(first.base_url, lucky, lucky_order, CARD_SUCCEEDS)),
        asyncio.create_task(_pay(first.base_url, declined, declined_order, CARD_DECLINED)),
    ]
    processing = select(func.count()).where(Payment.status == PaymentStatus.PROCESSING)
    charges = select(func.count()).select_from(SandboxCharge)

    async def both_charges_asked() -> bool:
        return await _count(db, processing) == 2 and await _count(db, charges) == 2

    await until("both payments processing at the provider", both_charges_asked)
    first.proc.send_signal(signal.SIGKILL)
    assert first.proc.wait(timeout=DEADLINE_S) == -signal.SIGKILL
    answers = await asyncio.gather(*in_flight, return_exceptions=True)
    assert all(isinstance(a, httpx.TransportError) for a in answers), answers
    (tmp_path / "pause").unlink()

    # What the crash left: both payments in flight, both orders unpaid, their units held.
    assert await _count(db, processing) == 2
    stock = await stock_of(db, store.sku_id)
    assert (stock.available, stock.held, stock.sold) == (3, 2, 0)

    second = await start_server()

    async def lucky_paid() -> bool:  # the recovery loop asks the sandbox: it charged the card
        return await _order_status(db, lucky_order) == OrderStatus.PAID

    await until("the charged order to be paid by the recovery", lucky_paid)

    retry: httpx.Response | None = None

    async def retry_answered() -> bool:  # 409 only while the stuck payment is still fresh
        nonlocal retry
        retry = await _pay(second.base_url, declined, declined_order, CARD_SUCCEEDS)
        assert retry.status_code in (200, 409), retry.text
        return retry.status_code == 200

    await until("the declined buyer's retry to pay", retry_answered)
    assert retry is not None and retry.json()["status"] == OrderStatus.PAID

    async with db.session(deferred=True) as s:
        rows = await s.execute(
            select(Payment.order_id, Payment.status, Payment.failure_code).order_by(Payment.id)
        )
        payments = [tuple(r) for r in rows.all()]
    assert [p for p in payments if p[0] == lucky_order] == [
        (lucky_order, PaymentStatus.SUCCEEDED, None)  # one charge, no second payment
    ]
    assert [p for p in payments if p[0] == declined_order] == [
        (declined_order, PaymentStatus.FAILED, "card_declined"),
        (declined_order, PaymentStatus.SUCCEEDED, None),
    ]
    stock = await stock_of(db, store.sku_id)
    assert stock.received == stock.available + stock.held + stock.sold
    assert (stock.available, stock.held, stock.sold) == (3, 0, 2)
    assert await trial_balance(db) == {"GBP": 0}
