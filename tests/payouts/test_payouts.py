"""Earnings while they are earned; statements from the ledger; payouts; a refund after a payout
is netted in the next statement."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from tests.shopfront import (
    MakeShopfront,
    add_contract,
    buy,
    deliver,
    end_session,
    open_plan,
    owed,
    start_session,
)
from tests.support import Actor, MakeActor, assert_problem


async def statement(
    client: httpx.AsyncClient, admin: Actor, creator_id: int, start: str
) -> dict[str, object]:
    resp = await client.post(
        "/api/v1/payout-statements",
        json={
            "party_kind": "creator",
            "party_id": creator_id,
            "currency": "GBP",
            "period_start": start,
            "period_end": utcnow().isoformat(),
        },
        headers=admin.headers,
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, object] = resp.json()
    return body


async def test_earnings_statements_payout_and_clawback(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    shop = await make_shopfront()
    t0 = (utcnow() - timedelta(minutes=1)).isoformat()
    await add_contract(client, admin, creator.id, base_fee_minor=150_000, min_live_minutes=60)
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1200}])
    live_id = await start_session(db, creator.id)
    first = await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    second = await buy(client, buyer, shop.sku_id, live_session_id=live_id)

    # While live: the fee is pending, both commissions are pending (return window not over).
    now = await client.get(
        f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=creator.headers
    )
    assert now.status_code == 200, now.text
    e = now.json()
    assert (e["base_fee_status"], e["base_fee_minor"]) == ("pending", 150_000)
    assert (e["commission_pending_minor"], e["commission_payable_minor"]) == (480, 0)
    assert e["projected_total_minor"] == 150_480 and e["orders"] == 2

    await deliver(client, db, shop, first["id"], days_ago=15)
    await deliver(client, db, shop, second["id"], days_ago=15)
    await end_session(db, live_id, minutes=90)
    settled = await client.post(f"/api/v1/live-sessions/{live_id}/settle", headers=admin.headers)
    assert settled.status_code == 200, settled.text
    month = (await client.get("/api/v1/creators/me/earnings", headers=creator.headers)).json()
    s0 = month["sessions"][0]
    assert (s0["base_fee_status"], s0["commission_payable_minor"]) == ("earned", 480)
    assert s0["per_live_hour_minor"] == 150_480 * 60 // 90
    assert month["owed_now_minor"] == 150_480 and month["per_live_hour_minor"] == 100_320

    one = await statement(client, admin, creator.id, t0)
    assert (one["closing_owed_minor"], one["pending_minor"], one["payout_minor"]) == (
        150_480,
        0,
        150_480,
    )
    paid = await client.post(f"/api/v1/payout-statements/{one['id']}/pay", headers=admin.headers)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    again = await client.post(f"/api/v1/payout-statements/{one['id']}/pay", headers=admin.headers)
    assert_problem(again, 409, "statement-not-open")
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0

    # A refund after the payout: the creator owes 240 back (a negative balance) ...
    line_id = first["lines"][0]["id"]
    refund = await client.post(
        f"/api/v1/orders/{first['id']}/refunds",
        json={"lines": [{"line_id": line_id, "quantity": 1}]},
        headers=shop.seller.headers,
    )
    assert refund.status_code == 200, refund.text
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == -240
    # ... which the next statement nets against new earnings (3 units: 720).
    live2 = await start_session(db, creator.id)
    third = await buy(client, buyer, shop.sku_id, quantity=3, live_session_id=live2)
    await deliver(client, db, shop, third["id"], days_ago=15)
    two = await statement(client, admin, creator.id, str(one["period_end"]))
    assert two["opening_owed_minor"] == 150_480  # the payout came after period one ended
    assert two["deducted_minor"] == 150_480 + 240
    assert two["earned_minor"] == 720
    assert (two["closing_owed_minor"], two["payout_minor"]) == (480, 480)

    # The CSV has every ledger line and the totals.
    resp = await client.get(f"/api/v1/payout-statements/{two['id']}.csv", headers=creator.headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text)))
    refs = [r[1] for r in rows[1:] if r[1]]
    assert f"payout:{one['id']}" in refs and any(r.endswith(":refund:1") for r in refs)
    assert ["", "", "total", "payout", "GBP", "480", ""] in rows
    async with db.session(deferred=True) as s:
        assert await ledger.is_balanced(s)


async def test_who_sees_what(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    creator, other = await make_actor(Role.CREATOR), await make_actor(Role.CREATOR)
    shop, other_shop = await make_shopfront(), await make_shopfront()
    buyer = await make_actor(Role.BUYER)
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    live_id = await start_session(db, creator.id)
    await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    st = await statement(client, admin, creator.id, (utcnow() - timedelta(hours=1)).isoformat())

    mine = await client.get(f"/api/v1/payout-statements/{st['id']}", headers=creator.headers)
    assert mine.status_code == 200 and mine.json()["closing_owed_minor"] == 200
    for resp, status in [
        (await client.get(f"/api/v1/payout-statements/{st['id']}", headers=other.headers), 403),
        (await client.get(f"/api/v1/creators/{creator.id}/earnings", headers=other.headers), 403),
        (
            await client.get(
                f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=other.headers
            ),
            404,
        ),
        (await client.get("/api/v1/creators/me/earnings", headers=buyer.headers), 403),
        (
            await client.get(
                f"/api/v1/shops/{shop.shop_id}/creator-costs", headers=other_shop.seller.headers
            ),
            403,
        ),
        (
            await client.post(
                "/api/v1/payout-statements",
                json={
                    "party_kind": "creator",
                    "party_id": creator.id,
                    "currency": "GBP",
                    "period_start": "2020-01-01T00:00:00Z",
                    "period_end": "2020-02-01T00:00:00Z",
                },
                headers=creator.headers,
            ),
            403,
        ),
    ]:
        assert_problem(resp, status)
    costs = await client.get(
        f"/api/v1/shops/{shop.shop_id}/creator-costs", headers=shop.seller.headers
    )
    assert costs.status_code == 200, costs.text
    row = costs.json()["sessions"][0]
    assert (row["live_session_id"], row["gmv_minor"], row["creator_commission_minor"]) == (
        live_id,
        2400,
        200,
    )
    assert row["cost_share_bp"] == 200 * 10_000 // 2400
