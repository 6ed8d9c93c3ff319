"""Invitations and plan revisions over the API on both databases: who may call what, bad
input is a 4xx that changes nothing, an answer is given once."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from tests.shopfront import MakeShopfront, add_contract, open_plan
from tests.support import MakeActor, assert_problem


async def test_an_invitation_over_the_api(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    admin, owner, rival_owner = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.AGENCY),
        await make_actor(Role.AGENCY),
    )
    creator, other, buyer = (
        await make_actor(Role.CREATOR),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    ids = []
    for who, name in ((owner, "Glow MCN"), (rival_owner, "Rival")):
        made = await client.post(
            "/api/v1/agencies", json={"name": name, "owner_id": who.id}, headers=admin.headers
        )
        ids.append(made.json()["id"])
    agency_id, rival_id = ids
    assert (await add_contract(client, admin, creator.id, base_fee_minor=5_000)).status_code == 201
    url = f"/api/v1/agencies/{agency_id}/invitations"
    good = {"email": creator.email, "agency_share_bp": 2000, "currency": "gbp"}

    assert_problem(await client.post(url, json=good), 401)
    assert_problem(await client.post(url, json=good, headers=buyer.headers), 403, "wrong-role")
    assert_problem(
        await client.post(url, json=good, headers=rival_owner.headers), 403, "not-agency-owner"
    )
    for bad, code in (
        ({**good, "agency_share_bp": 10_001}, "bad-rate"),
        ({**good, "agency_share_bp": "20"}, "validation-error"),
        ({**good, "email": "a\x00b@example.com"}, "validation-error"),
        ({**good, "currency": "POUNDS"}, "validation-error"),
        ({**good, "extra": 1}, "validation-error"),
        ({**good, "email": buyer.email}, "unknown-creator"),
    ):
        assert_problem(await client.post(url, json=bad, headers=owner.headers), 422, code)
    assert (await client.get(url, headers=owner.headers)).json() == []

    sent = await client.post(url, json=good, headers=owner.headers)
    assert sent.status_code == 201, sent.text
    invitation = sent.json()
    assert (invitation["status"], invitation["currency"]) == ("pending", "GBP")
    assert_problem(await client.post(url, json=good, headers=owner.headers), 409, "already-invited")
    assert_problem(await client.get(url, headers=rival_owner.headers), 403)

    mine = await client.get("/api/v1/creators/me/invitations", headers=creator.headers)
    assert [i["id"] for i in mine.json()] == [invitation["id"]]
    accept = f"/api/v1/agency-invitations/{invitation['id']}/accept"
    assert_problem(await client.post(accept, headers=other.headers), 404, "invitation-not-found")
    assert_problem(await client.post(accept, headers=owner.headers), 403, "wrong-role")
    assert_problem(
        await client.post(
            f"/api/v1/agency-invitations/{invitation['id']}/withdraw", headers=rival_owner.headers
        ),
        403,
    )
    done = await client.post(accept, headers=creator.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "accepted" and done.json()["contract_id"]
    assert_problem(await client.post(accept, headers=creator.headers), 409, "invitation-answered")
    history = await client.get(f"/api/v1/creators/{creator.id}/contracts", headers=owner.headers)
    latest = history.json()[-1]
    assert (latest["version"], latest["agency_id"], latest["agency_share_bp"]) == (
        2,
        agency_id,
        2000,
    )
    assert latest["base_fee_minor"] == 5_000  # the creator's terms, plus the agency
    rival = await client.post(
        f"/api/v1/agencies/{rival_id}/invitations",
        json={**good, "email": creator.email},
        headers=rival_owner.headers,
    )
    assert_problem(rival, 409, "creator-has-agency")

    to_other = await client.post(url, json={**good, "email": other.email}, headers=owner.headers)
    declined = await client.post(
        f"/api/v1/agency-invitations/{to_other.json()['id']}/decline", headers=other.headers
    )
    assert declined.json()["status"] == "declined"
    listed = await client.get(url, headers=owner.headers)
    assert sorted(i["status"] for i in listed.json()) == ["accepted", "declined"]


async def test_a_plan_revised_over_the_api(
    client: httpx.AsyncClient, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    shop, other_shop = await make_shopfront(), await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    made = await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    plan_id = made.json()["id"]
    url = f"/api/v1/affiliate-plans/{plan_id}"
    body = {"items": [{"product_id": shop.product_id, "rate_bp": 600}]}
    assert_problem(await client.put(url, json=body, headers=other_shop.seller.headers), 403)
    assert_problem(await client.put(url, json=body, headers=creator.headers), 403, "wrong-role")
    for bad, code in (
        ({"items": [{"product_id": shop.product_id, "rate_bp": 10_001}]}, "bad-rate"),
        ({"items": []}, "validation-error"),
        ({**body, "kind": "targeted"}, "validation-error"),
        ({"items": [{"product_id": other_shop.product_id, "rate_bp": 5}]}, "not-shop-product"),
        ({**body, "creator_ids": [creator.id]}, "open-plan-with-creators"),
    ):
        assert_problem(await client.put(url, json=bad, headers=shop.seller.headers), 422, code)
    mine = await client.get("/api/v1/creators/me/affiliate-plans", headers=creator.headers)
    assert plan_id in [p["id"] for p in mine.json()]

    new = await client.put(url, json=body, headers=shop.seller.headers)
    assert new.status_code == 200, new.text
    assert new.json()["id"] != plan_id and new.json()["items"][0]["rate_bp"] == 600
    listed = await client.get(
        f"/api/v1/shops/{shop.shop_id}/affiliate-plans", headers=shop.seller.headers
    )
    old = next(p for p in listed.json() if p["id"] == plan_id)
    assert old["valid_until"] is not None  # ended now; its sales keep its rate
    assert_problem(await client.put(url, json=body, headers=shop.seller.headers), 409, "plan-ended")
    mine = await client.get("/api/v1/creators/me/affiliate-plans", headers=creator.headers)
    assert [p["id"] for p in mine.json() if p["shop_id"] == shop.shop_id] == [new.json()["id"]]
