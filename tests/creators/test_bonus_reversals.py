"""A live session's GMV bonus is reversed when later refunds take the session's GMV below the
threshold that earned it: a balanced reversal of the bonus (creator and agency), the platform
campaign's budget back, a negative balance netted by the next payout if it was already paid,
and a line telling the creator why — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.affiliates import contracts
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators import bonus_reversals
from liveshop.creators.bonus_reversals import REVERSAL_KIND
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.orders import lifecycle
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.promotions.models import SubsidyClaim
from tests.shopfront import (
    MakeShopfront,
    Shopfront,
    add_contract,
    buy,
    deliver,
    end_session,
    make_agency,
    new_campaign,
    open_plan,
    owed,
    start_session,
)
from tests.support import Actor, MakeActor


async def refund_whole(client: httpx.AsyncClient, shop: Shopfront, order: dict[str, Any]) -> None:
    line = order["lines"][0]
    resp = await client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"lines": [{"line_id": line["id"], "quantity": line["quantity"]}]},
        headers=shop.seller.headers,
    )
    assert resp.status_code == 200, resp.text


async def earnings(client: httpx.AsyncClient, creator: Actor) -> dict[str, Any]:
    resp = await client.get("/api/v1/creators/me/earnings", headers=creator.headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def expense(db: Database) -> int:
    async with db.session(deferred=True) as s:
        return await ledger.balance(
            s, ledger.AccountKey(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB", "GBP")
        )


async def bonus_transactions(db: Database, live_id: int) -> list[str]:
    async with db.session(deferred=True) as s:
        txs = await ledger.transactions_by_reference_prefix(s, f"live:{live_id}:")
    return [tx.reference for tx in txs]


async def test_a_campaign_bonus_is_reversed_when_refunds_take_the_gmv_below_its_threshold(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    admin, creator, buyer, owner = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
        await make_actor(Role.AGENCY),
    )
    shop = await make_shopfront()
    agency_id = await make_agency(client, admin, owner, creator)
    made = await add_contract(client, admin, creator.id, agency_id=agency_id, agency_share_bp=2000)
    assert made.status_code == 201, made.text
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    campaign = await new_campaign(
        client,
        admin,
        kind="creator_gmv_bonus",
        value=5000,  # £50.00 for a show selling £70.00 or more
        per_order_cap_minor=5000,
        gmv_threshold_minor=7000,
        budget_minor=10_000,
    )
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]

    # Three serums (£24.00, commission £2.00 each: creator £1.60, agency £0.40): GMV £72.00.
    live_id = await start_session(db, creator.id)
    orders = [await buy(client, buyer, shop.sku_id, live_session_id=live_id) for _ in range(3)]
    await end_session(db, live_id, minutes=60)  # settles: the bonus is paid
    assert await bonus_transactions(db, live_id) == [f"live:{live_id}:campaign:{campaign_id}"]
    creator_party, agency_party = f"creator:{creator.id}", f"agency:{agency_id}"
    assert await owed(db, AccountType.CREATOR_PAYABLE, creator_party) == 3 * 160 + 4000
    assert await owed(db, AccountType.AGENCY_PAYABLE, agency_party) == 3 * 40 + 1000
    got = await client.get(f"/api/v1/subsidy-campaigns/{campaign_id}", headers=admin.headers)
    assert got.json()["spent_minor"] == 5000

    # The bonus is paid out (the commissions are still pending: not delivered).
    start = "2000-01-01T00:00:00+00:00"
    st = await client.post(
        "/api/v1/payout-statements",
        json={
            "party_kind": "creator",
            "party_id": creator.id,
            "currency": "GBP",
            "period_start": start,
            "period_end": utcnow().isoformat(),
        },
        headers=admin.headers,
    )
    assert st.status_code == 201 and st.json()["payout_minor"] == 4000, st.text
    paid = await client.post(
        f"/api/v1/payout-statements/{st.json()['id']}/pay", headers=admin.headers
    )
    assert paid.status_code == 200, paid.text

    # One order is refunded: the show sold £48.00, below £70.00 — the bonus is reversed, in
    # the refund's transaction: the creator's £40.00 and the agency's £10.00 come back to the
    # platform, and the campaign's budget gets its £50.00 back.
    await refund_whole(client, shop, orders[0])
    refs = await bonus_transactions(db, live_id)
    assert refs == [
        f"live:{live_id}:campaign:{campaign_id}",
        f"live:{live_id}:campaign:{campaign_id}:reversal",
    ]
    # Already paid out: the creator owes it back, netted against the next payout.
    assert await owed(db, AccountType.CREATOR_PAYABLE, creator_party) == 2 * 160 - 4000
    assert await owed(db, AccountType.AGENCY_PAYABLE, agency_party) == 2 * 40
    assert await expense(db) == 0
    got = await client.get(f"/api/v1/subsidy-campaigns/{campaign_id}", headers=admin.headers)
    assert got.json()["spent_minor"] == 0
    async with db.session(deferred=True) as s:
        claim = (await s.scalars(select(SubsidyClaim))).one()
        assert (claim.live_session_id, claim.amount_minor, claim.returned_minor) == (
            live_id,
            5000,
            5000,
        )

    # The creator sees why, on the API and on their earnings page.
    e = await earnings(client, creator)
    (row,) = e["sessions"]
    assert row["bonus_minor"] == 0 and row["gmv_minor"] == 4800
    (rev,) = e["bonus_reversals"]
    assert row["bonus_reversals"] == [rev]
    assert {k: rev[k] for k in rev if k not in ("at", "reason")} == {
        "live_session_id": live_id,
        "reference": f"live:{live_id}:campaign:{campaign_id}:reversal",
        "source": "campaign",
        "campaign_id": campaign_id,
        "reversed_minor": 4000,
        "gmv_from_minor": 7200,
        "gmv_to_minor": 4800,
        "threshold_minor": 7000,
        "bonus_before_minor": 5000,
        "bonus_after_minor": 0,
    }
    assert "reversed" in rev["reason"]
    assert "from £72.00 to £48.00, below the £70.00 threshold" in rev["reason"]
    one = await client.get(
        f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=creator.headers
    )
    assert one.json()["bonus_reversals"] == [rev]
    page = await client.get("/studio/earnings", headers=creator.headers)
    assert page.status_code == 200, page.text
    assert "Bonuses reversed" in page.text
    assert "from £72.00 to £48.00, below the £70.00 threshold" in page.text

    # A second refund reverses nothing more (the bonus is gone once), and the next statement
    # nets the creator's debt: nothing is paid out.
    await refund_whole(client, shop, orders[1])
    assert len(await bonus_transactions(db, live_id)) == 2
    assert await owed(db, AccountType.CREATOR_PAYABLE, creator_party) == 160 - 4000
    nxt = await client.post(
        "/api/v1/payout-statements",
        json={
            "party_kind": "creator",
            "party_id": creator.id,
            "currency": "GBP",
            "period_start": st.json()["period_end"],
            "period_end": utcnow().isoformat(),
        },
        headers=admin.headers,
    )
    assert nxt.status_code == 201, nxt.text
    assert (nxt.json()["closing_owed_minor"], nxt.json()["payout_minor"]) == (160 - 4000, 0)
    reasons = [ln["memo"] for ln in nxt.json()["lines"] if ln["kind"] == REVERSAL_KIND]
    assert reasons == [rev["reason"]]
    # Settling again grants nothing again.
    again = await client.post(f"/api/v1/live-sessions/{live_id}/settle", headers=admin.headers)
    assert again.status_code == 200 and again.json()["bonus_minor"] == 0
    assert len(await bonus_transactions(db, live_id)) == 2
    async with db.session(deferred=True) as s:
        assert await ledger.is_balanced(s)


async def test_a_tier_bonus_falls_to_the_tier_still_reached(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    made = await add_contract(
        client,
        admin,
        creator.id,
        gmv_tiers=[
            {"gmv_minor": 4500, "bonus_minor": 300},
            {"gmv_minor": 7000, "bonus_minor": 1000},
        ],
    )
    assert made.status_code == 201, made.text
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    live_id = await start_session(db, creator.id)
    orders = [await buy(client, buyer, shop.sku_id, live_session_id=live_id) for _ in range(3)]
    await end_session(db, live_id, minutes=60)
    party = f"creator:{creator.id}"
    assert await owed(db, AccountType.CREATOR_PAYABLE, party) == 3 * 200 + 1000

    # £72.00 → £48.00: the £70.00 tier is lost, the £45.00 tier still reached: £10.00 → £3.00.
    await refund_whole(client, shop, orders[0])
    assert await owed(db, AccountType.CREATOR_PAYABLE, party) == 2 * 200 + 300
    # £48.00 → £24.00: below the first tier, the rest goes.
    await refund_whole(client, shop, orders[1])
    assert await owed(db, AccountType.CREATOR_PAYABLE, party) == 200
    assert await bonus_transactions(db, live_id) == [
        f"live:{live_id}:bonus",
        f"live:{live_id}:bonus:reversal:300",
        f"live:{live_id}:bonus:reversal:0",
    ]
    assert await expense(db) == 0

    e = await earnings(client, creator)
    assert e["sessions"][0]["bonus_minor"] == 0
    first, second = e["bonus_reversals"]
    assert (first["reversed_minor"], first["bonus_before_minor"], first["bonus_after_minor"]) == (
        700,
        1000,
        300,
    )
    assert (first["gmv_from_minor"], first["gmv_to_minor"], first["threshold_minor"]) == (
        7200,
        4800,
        7000,
    )
    assert "reduced from £10.00 to £3.00" in first["reason"]
    assert "from £72.00 to £48.00, below the £70.00 threshold" in first["reason"]
    assert (second["reversed_minor"], second["bonus_after_minor"], second["threshold_minor"]) == (
        300,
        0,
        4500,
    )
    assert "from £48.00 to £24.00, below the £45.00 threshold" in second["reason"]
    async with db.session(deferred=True) as s:
        assert await ledger.is_balanced(s)


async def test_refunds_made_at_once_reverse_the_bonus_as_their_sum_says(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two refunds of one session at the same moment: each judges the GMV with the other's in
    it (the session's row is locked), so the bonus ends where the final GMV says — neither
    left too high nor reversed twice."""
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    made = await add_contract(
        client,
        admin,
        creator.id,
        gmv_tiers=[
            {"gmv_minor": 4500, "bonus_minor": 300},
            {"gmv_minor": 7000, "bonus_minor": 1000},
        ],
    )
    assert made.status_code == 201, made.text
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    live_id = await start_session(db, creator.id)
    orders = [await buy(client, buyer, shop.sku_id, live_session_id=live_id) for _ in range(3)]
    for order in orders:  # delivered: refunds touch no shared stock row
        await deliver(client, db, shop, order["id"], days_ago=1)
    # A refund outside the show first, so the refunds below create no ledger account either.
    elsewhere = await buy(client, buyer, shop.sku_id)
    await deliver(client, db, shop, elsewhere["id"], days_ago=1)
    await refund_whole(client, shop, elsewhere)
    await end_session(db, live_id, minutes=60)
    provider = SandboxProvider("sandbox", delay_s=-1)
    # Both refunds have written their units before either judges the session's GMV (on
    # SQLite, whose writers take turns, the first goes on alone after a moment).
    arrived, both = [0], asyncio.Event()
    original = bonus_reversals.reverse_lost_bonuses

    async def together(session: Any, live_session_id: int) -> list[str]:
        arrived[0] += 1
        if arrived[0] == 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 1.0)
        return await original(session, live_session_id)

    monkeypatch.setattr(bonus_reversals, "reverse_lost_bonuses", together)

    async def refund(order_id: int) -> None:
        async with db.session() as s:
            order = await s.get(Order, order_id)
            assert order is not None
            await lifecycle.refund(
                s,
                provider,
                order_id,
                [lifecycle.RefundLine(order.lines[0].id, 1)],
                actor_id=None,
                reason="both at once",
            )

    await asyncio.gather(refund(orders[0]["id"]), refund(orders[1]["id"]))
    party = f"creator:{creator.id}"
    assert await owed(db, AccountType.CREATOR_PAYABLE, party) == 200  # GMV £24.00: no tier
    refs = await bonus_transactions(db, live_id)
    assert refs[0] == f"live:{live_id}:bonus" and refs[-1] == f"live:{live_id}:bonus:reversal:0"
    assert await expense(db) == 0
    async with db.session(deferred=True) as s:
        txs = await ledger.transactions_by_reference_prefix(s, f"live:{live_id}:bonus:")
        assert all(tx.kind == REVERSAL_KIND for tx in txs)
        assert await ledger.is_balanced(s)


def test_an_agency_taking_everything_leaves_no_zero_posting() -> None:
    """A contract may give its agency 100 %: the creator's part of a fee or bonus is 0 and is
    left out (a zero Posting is refused, which made such a session's settlement fail)."""
    split = contracts.AgencySplit(agency_id=3, share_bp=10_000)
    out = contracts.creator_and_agency_postings(
        creator_id=7, split=split, amount_minor=1000, currency="GBP"
    )
    assert [(str(p.account.type), p.account.party, p.amount_minor) for p in out] == [
        ("agency_payable", "agency:3", -1000)
    ]
    none = contracts.creator_and_agency_postings(
        creator_id=7, split=None, amount_minor=1000, currency="GBP"
    )
    assert [(p.account.party, p.amount_minor) for p in none] == [("creator:7", -1000)]
