"""Contracts as data: versioned, checked, and never retroactive (a cut applies from its date)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from liveshop.accounts.models import Role
from liveshop.affiliates import contracts
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger.models import AccountType
from tests.shopfront import add_contract, end_session, owed, start_session
from tests.support import MakeActor, assert_problem


async def test_bad_contract_terms(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    admin = await make_actor(Role.ADMIN)
    creator = await make_actor(Role.CREATOR)
    past = (utcnow() - timedelta(days=1)).isoformat()
    cases = [
        ({"base_fee_minor": -1}, 422, "bad-amount"),
        ({"agency_share_bp": 10_001}, 422, "bad-rate"),
        ({"agency_share_bp": 2000}, 422, "share-without-agency"),
        ({"base_fee_minor": 100_000, "effective_from": past}, 422, "effective-date-in-past"),
        ({"gmv_tiers": [{"gmv_minor": 0, "bonus_minor": 5}]}, 422, "bad-tiers"),
    ]
    for terms, status, code in cases:
        assert_problem(await add_contract(client, admin, creator.id, **terms), status, code)
    ok = await add_contract(client, admin, creator.id, base_fee_minor=150_000)
    assert ok.status_code == 201, ok.text
    # A cut that would start before the current version (i.e. rewrite the past) is refused.
    assert_problem(
        await add_contract(client, admin, creator.id, base_fee_minor=50_000, effective_from=past),
        422,
        "effective-date-in-past",
    )
    # Only admins write contracts; a creator cannot raise their own fee.
    resp = await add_contract(client, creator, creator.id, base_fee_minor=999_999)
    assert_problem(resp, 403)


async def test_a_cut_never_rewrites_past_earnings(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    creator = await make_actor(Role.CREATOR)
    r = await add_contract(client, admin, creator.id, base_fee_minor=150_000, min_live_minutes=120)
    assert r.status_code == 201
    first = await start_session(db, creator.id)
    cut_from = utcnow() + timedelta(minutes=30)
    r = await add_contract(
        client,
        admin,
        creator.id,
        base_fee_minor=50_000,
        min_live_minutes=120,
        effective_from=cut_from.isoformat(),
    )
    assert r.status_code == 201 and r.json()["version"] == 2
    await end_session(db, first, minutes=240)
    settled = await client.post(f"/api/v1/live-sessions/{first}/settle", headers=admin.headers)
    assert settled.status_code == 200, settled.text
    assert settled.json()["base_fee_minor"] == 150_000  # the terms in force when it started
    async with db.session(deferred=True) as s:
        assert (await contracts.contract_at(s, creator.id, utcnow())).version == 1  # type: ignore[union-attr]
        later = await contracts.contract_at(s, creator.id, cut_from + timedelta(seconds=1))
        assert later is not None and later.base_fee_minor == 50_000
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 150_000
