"""Payout statements are reproducible and pay each commission once.

A statement for a period ending at T judges pending vs payable as things stood at T — the
order's return window (frozen on the order) had passed by T and it was not refunded (or under a
refund request) by T — never as of the moment it is made; asking again for a period returns
the same statement; periods of one party never overlap, and a statement made while an earlier
one is unpaid (or paid only after this period's end) does not pay that money again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict
from liveshop.ledger.models import AccountType
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.orders.models import OrderEvent
from liveshop.payouts import statements
from liveshop.payouts.figures import statement_figures
from liveshop.payouts.models import PayoutStatement
from tests.shopfront import MakeShopfront, buy, deliver, open_plan, owed, start_session
from tests.support import Actor, MakeActor, assert_problem


class LedgerClock:
    """What time the ledger writes on its transactions (None: the real time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: datetime | None = None
        monkeypatch.setattr("liveshop.ledger.service.utcnow", self)

    def __call__(self) -> datetime:
        return self.now or utcnow()


async def at(
    db: Database, clock: LedgerClock, when: datetime, step: Callable[[], Awaitable[Any]]
) -> Any:
    """Run ``step`` as if at ``when``: its ledger postings and its orders' events carry it."""
    async with db.session(deferred=True) as s:
        before = int(await s.scalar(select(func.coalesce(func.max(OrderEvent.id), 0))) or 0)
    clock.now = when
    try:
        result = await step()
    finally:
        clock.now = None
    async with db.session() as s:
        await s.execute(update(OrderEvent).where(OrderEvent.id > before).values(created_at=when))
        await s.commit()
    return result


async def make(
    client: httpx.AsyncClient,
    admin: Actor,
    creator_id: int,
    start: datetime,
    end: datetime,
    status: int = 201,
) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/payout-statements",
        json={
            "party_kind": "creator",
            "party_id": creator_id,
            "currency": "GBP",
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
        },
        headers=admin.headers,
    )
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    return body


def figures(st: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        st["closing_owed_minor"],
        st["pending_minor"],
        st["earlier_payouts_minor"],
        st["payout_minor"],
    )


async def test_a_past_periods_statement_is_judged_at_the_periods_end(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = LedgerClock(monkeypatch)
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    live_id = await start_session(db, creator.id)
    h = shop.seller.headers
    day0 = utcnow() - timedelta(days=40)

    def day(n: float) -> datetime:
        return day0 + timedelta(days=n)

    # Three orders paid on day 0 (commission £2.00 each, GB: 14-day window), delivered on day 1:
    # each is payable from day 15.
    orders = []
    for _ in range(3):
        order = await at(
            db, clock, day(0), lambda: buy(client, buyer, shop.sku_id, live_session_id=live_id)
        )
        orders.append(order["id"])
    _, b, c = orders

    async def ship_and_deliver(oid: int) -> None:
        for path, body in (
            ("fulfil", None),
            ("ship", {"carrier": "Post", "tracking_number": f"TR{oid:04d}"}),
            ("deliver", None),
        ):
            resp = await client.post(f"/api/v1/orders/{oid}/{path}", json=body, headers=h)
            assert resp.status_code == 200, resp.text

    for oid in orders:
        await at(db, clock, day(1), lambda oid=oid: ship_and_deliver(oid))  # type: ignore[misc]

    async def post_ok(path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        resp = await client.post(path, json=body, headers=headers)
        assert resp.status_code == 200, resp.text

    # Day 18: the buyer of C asks for a refund (its commission is held back again).
    await at(
        db,
        clock,
        day(18),
        lambda: post_ok(
            f"/api/v1/orders/{c}/refund-request", {"reason": "scratched"}, buyer.headers
        ),
    )

    # Period one ends on day 10: every window was open then, so all £6.00 was pending —
    # although all three windows have passed by now (C is only under a refund request).
    one = await make(client, admin, creator.id, day(-1), day(10))
    assert figures(one) == (600, 600, 0, 0) and one["status"] == "nothing_due"
    assert one["seq"] == 1

    # Day 25: B is refunded in full; day 30: the seller rejects C's request (C is delivered
    # again, so its window runs from day 30).
    line_b = (await client.get(f"/api/v1/orders/{b}", headers=h)).json()["lines"][0]["id"]
    await at(
        db,
        clock,
        day(25),
        lambda: post_ok(
            f"/api/v1/orders/{b}/refunds", {"lines": [{"line_id": line_b, "quantity": 1}]}, h
        ),
    )
    await at(
        db,
        clock,
        day(30),
        lambda: post_ok(f"/api/v1/orders/{c}/refund-request/reject", {"reason": "no"}, h),
    )

    # Period two ends on day 20: A and B were payable then (B's refund came later), C was
    # under a refund request — whatever their status is now.
    two = await make(client, admin, creator.id, day(10), day(20))
    assert figures(two) == (600, 200, 0, 400) and two["status"] == "open"
    assert two["seq"] == 2

    # Asking again for a period gives the statement already made, unchanged (200, not 201) ...
    again = await make(client, admin, creator.id, day(10), day(20), status=200)
    assert again == two
    # ... and computing a period's figures again now gives what it was made with.
    account = payable_account(PartyKind.CREATOR, creator.id, "GBP")
    async with db.session(deferred=True) as s:
        earlier = [await s.get(PayoutStatement, one["id"])]
        for st, before in ((one, []), (two, earlier)):
            redone = await statement_figures(
                s,
                account,
                period_start=datetime.fromisoformat(st["period_start"]),
                period_end=datetime.fromisoformat(st["period_end"]),
                earlier=before,  # type: ignore[arg-type]
            )
            assert (
                redone.closing_owed_minor,
                redone.pending_minor,
                redone.earlier_payouts_minor,
                redone.payout_minor,
            ) == figures(st)

    paid = await client.post(f"/api/v1/payout-statements/{two['id']}/pay", headers=admin.headers)
    assert paid.status_code == 200, paid.text
    # Period three (day 20 to now) nets B's refund against the payout: C is still pending
    # (delivered again on day 30, payable on day 44), nothing is due.
    three = await make(client, admin, creator.id, day(20), utcnow())
    assert figures(three) == (0, 0, 0, 0) and three["status"] == "nothing_due"
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0


async def test_statements_follow_one_another_and_pay_each_commission_once(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    live_id = await start_session(db, creator.id)

    async def payable_order(quantity: int) -> None:
        order = await buy(client, buyer, shop.sku_id, quantity=quantity, live_session_id=live_id)
        await deliver(client, db, shop, order["id"], days_ago=15)

    a = utcnow() - timedelta(minutes=1)
    await payable_order(1)  # £2.00
    b = utcnow()
    one = await make(client, admin, creator.id, a, b)
    assert figures(one) == (200, 0, 0, 200)

    # The same period again: the same statement. Another period starting there, one starting
    # inside it, or one before it: refused — a party's periods never overlap.
    assert (await make(client, admin, creator.id, a, b, status=200))["id"] == one["id"]
    for start, end, code in (
        (a, utcnow(), "statement-exists"),
        (a + timedelta(seconds=1), utcnow(), "statement-overlaps"),
        (a - timedelta(days=1), a, "statement-overlaps"),
    ):
        resp = await client.post(
            "/api/v1/payout-statements",
            json={
                "party_kind": "creator",
                "party_id": creator.id,
                "currency": "GBP",
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
            },
            headers=admin.headers,
        )
        assert_problem(resp, 409, code)

    # Statement one is not paid yet when statement two is made: two pays only what is new.
    await payable_order(2)  # £4.00
    c = utcnow()
    two = await make(client, admin, creator.id, b, c)
    assert figures(two) == (600, 0, 200, 400) and two["seq"] == 2

    # Statement one is paid after period three ends, and three is made after that payment:
    # three's period did not see the payout, and still does not pay it again.
    await payable_order(3)  # £6.00
    d = utcnow()
    for st in (two, one):  # in any order
        resp = await client.post(f"/api/v1/payout-statements/{st['id']}/pay", headers=admin.headers)
        assert resp.status_code == 200, resp.text
    three = await make(client, admin, creator.id, c, d)
    assert figures(three) == (1200, 0, 600, 600)
    resp = await client.post(f"/api/v1/payout-statements/{three['id']}/pay", headers=admin.headers)
    assert resp.status_code == 200, resp.text

    # Everything earned was paid exactly once.
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0
    four = await make(client, admin, creator.id, d, utcnow())
    assert figures(four) == (0, 0, 0, 0)
    assert (four["opening_owed_minor"], four["deducted_minor"]) == (1200, 1200)


async def test_statements_made_at_once_cannot_overlap(
    db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor, client: httpx.AsyncClient
) -> None:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    shop = await make_shopfront()
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    live_id = await start_session(db, creator.id)
    a = utcnow() - timedelta(minutes=1)
    order = await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    await deliver(client, db, shop, order["id"], days_ago=15)
    b = utcnow()

    async def attempt(start: datetime) -> int | str:
        async with db.session() as s:
            try:
                row = await statements.create_statement(
                    s,
                    party_kind=PartyKind.CREATOR,
                    party_id=creator.id,
                    currency="GBP",
                    period_start=start,
                    period_end=b,
                )
            except Conflict as exc:
                return str(exc.code)
            return row.payout_minor

    # Two periods over the same commission, made at the same moment: one pays it, the other
    # is refused; the same period twice at once is one statement.
    results = await asyncio.gather(attempt(a), attempt(a + timedelta(seconds=1)))
    assert sorted(results, key=str) == sorted([200, "statement-overlaps"], key=str) or sorted(
        results, key=str
    ) == sorted([200, "statement-exists"], key=str)
    async with db.session(deferred=True) as s:
        rows = (
            await s.scalars(select(PayoutStatement).where(PayoutStatement.party_id == creator.id))
        ).all()
    assert len(rows) == 1 and rows[0].payout_minor == 200
