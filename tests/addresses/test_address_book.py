"""The address book over the API, the order's copy of the address, and who may read it."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from tests.addresses.examples import address
from tests.orders.conftest import MakeStore, checkout
from tests.shopfront import MakeShopfront, open_plan, start_session
from tests.support import Actor, MakeActor, assert_problem

BOOK = "/api/v1/me/addresses"


async def add(client: httpx.AsyncClient, who: Actor, body: dict[str, object]) -> httpx.Response:
    return await client.post(BOOK, json=body, headers=who.headers)


async def test_book_defaults_and_422(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    buyer = await make_actor(Role.BUYER)
    bad = await add(client, buyer, address("GB", postal_code="XX"))
    body = assert_problem(bad, 422, "invalid-address")
    assert body["field"] == "postal_code" and "postal_code" in body["detail"]

    first = (await add(client, buyer, address("GB"))).json()
    second = (await add(client, buyer, address("GB", full_name="Bob Lee"))).json()
    vn = (await add(client, buyer, address("VN"))).json()
    assert first["is_default"] and not second["is_default"] and vn["is_default"]
    assert first["lines"][0] == "Ann Lee" and "SW1A 2AA" in first["lines"]

    made = await client.post(f"{BOOK}/{second['id']}/default", headers=buyer.headers)
    assert made.json()["is_default"]
    listed = (await client.get(BOOK, headers=buyer.headers)).json()
    defaults = {(a["country_code"], a["full_name"]) for a in listed if a["is_default"]}
    assert defaults == {("GB", "Bob Lee"), ("VN", "Linh Nguyen")}

    other = await make_actor(Role.BUYER)
    assert_problem(await client.delete(f"{BOOK}/{second['id']}", headers=other.headers), 404)
    assert (await client.delete(f"{BOOK}/{second['id']}", headers=buyer.headers)).status_code == 204
    listed = (await client.get(BOOK, headers=buyer.headers)).json()
    gb = [a for a in listed if a["country_code"] == "GB"]
    assert [a["full_name"] for a in gb] == ["Ann Lee"] and gb[0]["is_default"]


async def test_order_keeps_its_address_and_only_the_right_people_see_it(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, make_store: MakeStore
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    home = (await add(client, buyer, address("GB"))).json()
    # no address in VN: a VN address cannot be named for a GB order
    vn = (await add(client, buyer, address("VN"))).json()
    wrong = await checkout(
        client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="w", address_id=vn["id"]
    )
    assert_problem(wrong, 422, "address-wrong-country")

    placed = await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="k1")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    url = f"/api/v1/orders/{order_id}/address"

    creator = await make_actor(Role.CREATOR)
    async with db.session() as s:  # even the creator who earns on the order
        await s.execute(update(Order).where(Order.id == order_id).values(creator_id=creator.id))
        await s.commit()
    agency = await make_actor(Role.AGENCY)
    other_seller = (await make_store()).seller
    other_buyer = await make_actor(Role.BUYER)
    for outsider in (creator, agency, other_seller, other_buyer):
        assert_problem(await client.get(url, headers=outsider.headers), 404, "order-not-found")

    admin = await make_actor(Role.ADMIN)
    for insider in (buyer, store.seller, admin):
        seen = await client.get(url, headers=insider.headers)
        assert seen.status_code == 200, seen.text
        assert seen.json()["full_name"] == "Ann Lee"
        assert seen.json()["postal_code"] == "SW1A 2AA"

    # deleting (or changing the default of) the address book never touches the order
    assert (await client.delete(f"{BOOK}/{home['id']}", headers=buyer.headers)).status_code == 204
    assert (await client.get(url, headers=buyer.headers)).json()["street_address"] == (
        "10 Downing Street"
    )

    # the buyer can send the unpaid order to another address of theirs in GB
    work = (await add(client, buyer, address("GB", street_address="1 Work Lane"))).json()
    moved = await client.put(url, json={"address_id": work["id"]}, headers=buyer.headers)
    assert moved.json()["street_address"] == "1 Work Lane"
    stolen = await client.put(url, json={"address_id": work["id"]}, headers=other_buyer.headers)
    assert_problem(stolen, 404)


async def test_no_address_no_copy(
    client: httpx.AsyncClient, make_actor: MakeActor, make_store: MakeStore
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    placed = await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="k")
    got = await client.get(f"/api/v1/orders/{placed.json()['id']}/address", headers=buyer.headers)
    assert got.status_code == 200 and got.json() is None


async def test_room_buy_delivers_to_the_address_chosen_in_the_sheet(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, make_shopfront: MakeShopfront
) -> None:
    """The buy sheet may send the buy to another saved address (``address_id``): the order
    keeps a copy of that one; someone else's is 404, one abroad 422."""
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    plan = await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    assert plan.status_code == 201, plan.text
    live_id = await start_session(db, creator.id)
    buyer = await make_actor(Role.BUYER)
    await add(client, buyer, address("GB"))  # the default
    work = (await add(client, buyer, address("GB", street_address="1 Work Lane"))).json()
    abroad = (await add(client, buyer, address("VN"))).json()
    theirs = (await add(client, await make_actor(Role.BUYER), address("GB"))).json()
    url = f"/api/v1/live/sessions/{live_id}/buy"

    async def tap(key: str, **extra: object) -> httpx.Response:
        body = {"sku_id": shop.sku_id, "card_number": CARD_SUCCEEDS, **extra}
        return await client.post(url, json=body, headers={**buyer.headers, "Idempotency-Key": key})

    assert_problem(await tap("a", address_id=theirs["id"]), 404)
    assert_problem(await tap("b", address_id=abroad["id"]), 422, "address-wrong-country")
    chosen = await tap("c", address_id=work["id"])
    assert chosen.status_code == 201, chosen.text
    default = await tap("d")
    assert default.status_code == 201, default.text
    streets = []
    for placed in (chosen, default):
        got = await client.get(
            f"/api/v1/orders/{placed.json()['id']}/address", headers=buyer.headers
        )
        streets.append(got.json()["street_address"])
    assert streets == ["1 Work Lane", "10 Downing Street"]
    mine = (await client.get("/api/v1/orders", headers=buyer.headers)).json()
    assert len(mine["items"] if isinstance(mine, dict) else mine) == 2
