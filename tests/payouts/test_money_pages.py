"""Money you can audit, over HTTP on both databases: a payout run, each party's statements
(list, page, CSV) and ledger (every entry with its reason, what is held and until when), and
who may read them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import httpx

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger.models import AccountType
from tests.shopfront import MakeShopfront, buy, deliver, make_agency, open_plan, owed, start_session
from tests.support import MakeActor, assert_problem


async def test_run_statement_ledger_csv_and_access(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    creator, other = await make_actor(Role.CREATOR), await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    shop, other_shop = await make_shopfront(), await make_shopfront()
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1200}])
    live_id = await start_session(db, creator.id)
    first = await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    second = await buy(client, buyer, shop.sku_id, quantity=2, live_session_id=live_id)
    await deliver(client, db, shop, first["id"], days_ago=30)  # payable
    await deliver(client, db, shop, second["id"], days_ago=2)  # inside its return window
    refund = await client.post(
        f"/api/v1/orders/{second['id']}/refunds",
        json={"lines": [{"line_id": second["lines"][0]["id"], "quantity": 1}]},
        headers=shop.seller.headers,
    )
    assert refund.status_code == 200, refund.text
    owed_before = await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}")
    assert owed_before == 240 + 240  # 12 % of £20.00 net, twice (one of two units refunded)

    # The ledger view: every entry with its reason; the held order with why and until when.
    mine = await client.get(
        "/api/v1/me/ledger",
        params={"party": f"creator:{creator.id}", "currency": "GBP"},
        headers=creator.headers,
    )
    assert mine.status_code == 200, mine.text
    view = mine.json()
    assert sum(e["amount_minor"] for e in view["entries"]) == view["owed_minor"] == owed_before
    assert [(e["reason"], e["order_id"]) for e in view["entries"]] == [
        ("order", first["id"]),
        ("order", second["id"]),
        ("refund", second["id"]),
    ]
    [held] = view["held"]
    assert (held["order_id"], held["amount_minor"], held["why"]) == (
        second["id"],
        240,
        "return_window",
    )
    assert held["payable_on"] is not None
    assert (view["held_minor"], view["payable_now_minor"]) == (240, 240)

    # An admin's run: a statement for every payable party, paid where something is due.
    until = utcnow()
    run = await client.post(
        "/api/v1/payout-runs", json={"until": until.isoformat(), "pay": True}, headers=admin.headers
    )
    assert run.status_code == 200, run.text
    results = {(r["party_kind"], r["party_id"]): r for r in run.json()}
    mine_run = results[("creator", creator.id)]
    assert (mine_run["made"], mine_run["paid"], mine_run["payout_minor"]) == (True, True, 240)
    assert results[("shop", shop.shop_id)]["paid"] is True
    again = await client.post(
        "/api/v1/payout-runs", json={"until": until.isoformat(), "pay": True}, headers=admin.headers
    )
    assert all(r["statement_id"] is None and not r["paid"] for r in again.json())
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 240
    bad = await client.post(
        "/api/v1/payout-runs",
        json={"until": (utcnow() + timedelta(days=1)).isoformat(), "pay": True},
        headers=admin.headers,
    )
    assert_problem(bad, 422, "period-not-over")
    assert_problem(
        await client.post(
            "/api/v1/payout-runs", json={"until": until.isoformat()}, headers=creator.headers
        ),
        403,
    )

    # The statement: its lines sum to what the ledger moved, and the CSV is the page.
    sid = mine_run["statement_id"]
    listed = await client.get("/api/v1/me/statements", headers=creator.headers)
    assert [s["id"] for s in listed.json()] == [sid]
    st = listed.json()[0]
    assert st["closing_owed_minor"] == owed_before
    assert (
        sum(ln["amount_minor"] for ln in st["lines"]) == st["earned_minor"] - st["deducted_minor"]
    )
    assert st["closing_owed_minor"] - st["pending_minor"] == st["payout_minor"]

    page = await client.get(f"/statements/{sid}", headers=creator.headers)
    assert page.status_code == 200, page.text
    shown = [
        (ref, int(amount))
        for ref, amount in re.findall(
            r'data-reference="([^"]+)" data-amount-minor="(-?\d+)"', page.text
        )
    ]
    got = await client.get(f"/statements/{sid}.csv", headers=creator.headers)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert shown == [(r[1], int(r[5])) for r in rows[1:] if r[1]]
    assert ["", "", "total", "payout", "GBP", "240", ""] in rows
    assert "£2.40" in page.text and "Download CSV" in page.text
    listing = await client.get("/statements", headers=creator.headers)
    assert f'href="/statements/{sid}"' in listing.text

    ledger_page = await client.get("/ledger", headers=creator.headers)
    assert ledger_page.status_code == 200
    assert f'id="held-{second["id"]}"' in ledger_page.text and "Payout" in ledger_page.text
    shop_ledger = await client.get(
        f"/ledger?party=shop:{shop.shop_id}", headers=shop.seller.headers
    )
    assert f'href="/seller/orders/{first["id"]}"' in shop_ledger.text  # linked to the order

    # Nobody else reads them: another creator, another shop, a buyer; an admin may.
    for who in (other, other_shop.seller, buyer):
        assert (await client.get(f"/statements/{sid}", headers=who.headers)).status_code == 403
        assert (await client.get(f"/statements/{sid}.csv", headers=who.headers)).status_code == 403
        assert_problem(
            await client.get(
                "/api/v1/me/ledger",
                params={"party": f"creator:{creator.id}", "currency": "GBP"},
                headers=who.headers,
            ),
            403,
            "not-your-account",
        )
        assert (await client.get("/api/v1/me/statements", headers=who.headers)).json() == []
    assert (
        await client.get(f"/ledger?party=shop:{shop.shop_id}", headers=other.headers)
    ).status_code == 403
    assert (await client.get(f"/statements/{sid}", headers=admin.headers)).status_code == 200
    admin_page = await client.get("/admin/payouts", headers=admin.headers)
    assert f'id="statement-{sid}"' in admin_page.text
    assert (await client.get("/admin/payouts", headers=creator.headers)).status_code == 403
    # Bad input changes nothing.
    for params in (
        {"party": "creator:x", "currency": "GBP"},
        {"party": "bank:1", "currency": "GBP"},
        {"party": f"creator:{creator.id}", "currency": "GB\x00"},
    ):
        resp = await client.get("/api/v1/me/ledger", params=params, headers=creator.headers)
        assert resp.status_code in (404, 422), resp.text
    assert (await client.get("/statements/99999999", headers=creator.headers)).status_code == 404


async def test_agency_owner_reads_the_agency_statements(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    admin, owner = await make_actor(Role.ADMIN), await make_actor(Role.AGENCY)
    creator, stranger = await make_actor(Role.CREATOR), await make_actor(Role.AGENCY)
    agency_id = await make_agency(client, admin, owner, creator)
    made = await client.post(
        "/api/v1/payout-statements",
        json={
            "party_kind": "agency",
            "party_id": agency_id,
            "currency": "GBP",
            "period_start": (utcnow() - timedelta(days=7)).isoformat(),
            "period_end": utcnow().isoformat(),
        },
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    listing = await client.get("/statements", headers=owner.headers)
    assert f'href="/statements/{sid}"' in listing.text and "Glow MCN" in listing.text
    assert (await client.get(f"/statements/{sid}.csv", headers=owner.headers)).status_code == 200
    assert (await client.get(f"/statements/{sid}", headers=stranger.headers)).status_code == 403
    assert (await client.get(f"/statements/{sid}", headers=creator.headers)).status_code == 403
