"""Settling contracts: base fees at session end, and agencies' shares of what a creator earns."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.creators import settlement
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from tests.shopfront import (
    MakeShopfront,
    add_contract,
    buy,
    end_session,
    make_agency,
    open_plan,
    owed,
    start_session,
)
from tests.support import MakeActor, assert_problem


async def test_base_fee_only_when_long_enough_and_settled_once(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    creator = await make_actor(Role.CREATOR)
    await add_contract(client, admin, creator.id, base_fee_minor=150_000, min_live_minutes=120)
    short = await start_session(db, creator.id)
    await end_session(db, short, minutes=119)
    resp = await client.post(f"/api/v1/live-sessions/{short}/settle", headers=admin.headers)
    assert resp.json()["base_fee_status"] == "not_met" and resp.json()["base_fee_minor"] == 0
    long = await start_session(db, creator.id)
    await end_session(db, long, minutes=120)
    for _ in range(2):  # idempotent
        async with db.session() as s:
            done = await settlement.settle_session(s, long)
        assert done.base_fee_minor == 150_000
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 150_000
    async with db.session(deferred=True) as s:
        expense = await ledger.balance(
            s, ledger.AccountKey(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB", "GBP")
        )
        assert expense == 150_000
        assert await ledger.is_balanced(s)
    # Not an admin: no manual settling.
    assert_problem(
        await client.post(f"/api/v1/live-sessions/{long}/settle", headers=creator.headers), 403
    )


async def test_agency_takes_its_share_exactly_and_refunds_reverse_it(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    owner = await make_actor(Role.AGENCY)
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    shop = await make_shopfront()
    agency_id = await make_agency(client, admin, owner, creator)
    r = await add_contract(
        client,
        admin,
        creator.id,
        agency_id=agency_id,
        agency_share_bp=2000,
        base_fee_minor=150_000,
        min_live_minutes=60,
    )
    assert r.status_code == 201, r.text
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1200}])
    live_id = await start_session(db, creator.id)
    order = await buy(client, buyer, shop.sku_id, quantity=3, live_session_id=live_id)
    # 3 × £24.00: net 6000, 12 % = 720 → agency 144, creator 576.
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 576
    assert await owed(db, AccountType.AGENCY_PAYABLE, f"agency:{agency_id}") == 144
    line_id = order["lines"][0]["id"]
    for _ in range(3):  # refund unit by unit: exact in the end
        resp = await client.post(
            f"/api/v1/orders/{order['id']}/refunds",
            json={"lines": [{"line_id": line_id, "quantity": 1}]},
            headers=shop.seller.headers,
        )
        assert resp.status_code == 200, resp.text
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0
    assert await owed(db, AccountType.AGENCY_PAYABLE, f"agency:{agency_id}") == 0
    await end_session(db, live_id, minutes=90)
    async with db.session() as s:
        await settlement.settle_session(s, live_id)
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 120_000
    assert await owed(db, AccountType.AGENCY_PAYABLE, f"agency:{agency_id}") == 30_000
    # The agency owner sees its member's contracts; another agency does not.
    seen = await client.get(f"/api/v1/creators/{creator.id}/contracts", headers=owner.headers)
    assert seen.status_code == 200 and seen.json()[0]["agency_share_bp"] == 2000
    stranger = await make_actor(Role.AGENCY)
    assert_problem(
        await client.get(f"/api/v1/creators/{creator.id}/contracts", headers=stranger.headers),
        403,
        "not-your-creator",
    )
    assert_problem(
        await client.post(
            f"/api/v1/agencies/{agency_id}/members",
            json={"creator_id": creator.id},
            headers=stranger.headers,
        ),
        403,
        "not-agency-owner",
    )
