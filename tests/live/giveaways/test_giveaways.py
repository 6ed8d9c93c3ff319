"""Giveaways through the API (SQLite and PostgreSQL): a unit held when it opens, the seed's
hash shown, eligibility refused clearly, one entry per viewer, a draw anyone re-runs from
the published seed and entries, and the winner's zero-price order shipped to their default
address with the ledger untouched and balanced."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger.models import LedgerTransaction
from liveshop.live.giveaways import draw
from liveshop.markets.models import Market
from liveshop.notices.models import Notice
from liveshop.orders.models import Order, OrderAddress
from tests.addresses.examples import address
from tests.live.deals.drops import stock_identity
from tests.live.helpers import new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem


async def _room(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> tuple[Actor, dict[str, Any], int]:
    seller = await make_actor(Role.SELLER)
    creator = await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, "prize")
    sku_id = product["skus"][0]["id"]
    got = await client.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": 3, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(client, creator, [product["id"]], start=True)
    return creator, live, sku_id


async def _viewer(
    client: httpx.AsyncClient, make_actor: MakeActor, *, with_address: bool = True
) -> Actor:
    who = await make_actor(Role.BUYER)
    if with_address:
        got = await client.post("/api/v1/me/addresses", json=address("GB"), headers=who.headers)
        assert got.status_code == 201, got.text
    return who


def _open(client: httpx.AsyncClient, live: dict[str, Any], who: Actor, **body: Any) -> Any:
    return client.post(
        f"/api/v1/live/sessions/{live['id']}/giveaways", json=body, headers=who.headers
    )


def _enter(client: httpx.AsyncClient, giveaway_id: int, who: Actor) -> Any:
    return client.post(f"/api/v1/live/giveaways/{giveaway_id}/entries", headers=who.headers)


async def test_a_giveaway_drawn_from_its_published_seed_and_entries(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, live, sku_id = await _room(client, make_actor)
    opened = await _open(client, live, creator, sku_id=sku_id, entry_seconds=60)
    assert opened.status_code == 201, opened.text
    g = opened.json()
    assert g["status"] == "open" and g["seed"] is None and len(g["seed_sha256"]) == 64
    assert g["terms"]  # the market's terms (the default wording here)
    assert (await stock_identity(db, sku_id))[:2] == (2, 1)  # the prize is held
    assert_problem(await _open(client, live, creator, sku_id=sku_id), 409, "giveaway-already-open")

    people = [await _viewer(client, make_actor) for _ in range(4)]
    mine = {}
    for who in people:
        got = await _enter(client, g["giveaway_id"], who)
        assert got.status_code == 201, got.text
        mine[who.id] = got.json()["public_id"]
    assert got.json()["entries"] == 4
    assert_problem(await _enter(client, g["giveaway_id"], people[0]), 409, "already-entered")
    assert_problem(await _enter(client, g["giveaway_id"], creator), 403, "host-cannot-enter")
    homeless = await _viewer(client, make_actor, with_address=False)
    assert_problem(await _enter(client, g["giveaway_id"], homeless), 409, "address-required")
    # Only the room's hosts control it.
    outsider = await make_actor(Role.CREATOR)
    denied = await client.post(
        f"/api/v1/live/giveaways/{g['giveaway_id']}/draw", headers=outsider.headers
    )
    assert_problem(denied, 403, "not-room-host")
    assert_problem(await client.post(f"/api/v1/live/giveaways/{g['giveaway_id']}/draw"), 401)

    drawn = await client.post(
        f"/api/v1/live/giveaways/{g['giveaway_id']}/draw", headers=creator.headers
    )
    assert drawn.status_code == 200, drawn.text
    result = drawn.json()
    assert result["status"] == "drawn" and result["winner_name"]
    assert_problem(await _enter(client, g["giveaway_id"], people[1]), 409, "giveaway-closed")

    # Anyone re-runs the draw from what was published.
    record = (await client.get(f"/api/v1/live/giveaways/{g['giveaway_id']}/entries")).json()
    assert sorted(mine.values()) == record["entries"]
    assert draw.fingerprint(record["seed"]) == g["seed_sha256"]
    assert draw.winner(record["seed"], record["entries"]) == record["winner_entry"]
    again = await client.post(
        "/api/v1/live/giveaways/verify",
        json={"seed": record["seed"], "entries": list(reversed(record["entries"]))},
    )
    assert again.status_code == 200, again.text
    assert again.json()["winner_entry"] == record["winner_entry"]
    assert again.json()["seed_sha256"] == g["seed_sha256"]
    winner = next(p for p in people if mine[p.id] == record["winner_entry"])

    # The winner's order costs nothing, ships to their default address, and moved no money.
    seen = (
        await client.get(f"/api/v1/live/giveaways/{g['giveaway_id']}", headers=winner.headers)
    ).json()
    assert seen["your_entry"] == mine[winner.id] and seen["order_id"]
    async with db.session(deferred=True) as s:
        order = await s.get(Order, seen["order_id"])
        assert order is not None and order.buyer_id == winner.id and order.status == "paid"
        assert (order.items_minor, order.shipping_minor, order.tax_minor, order.total_minor) == (
            0,
            0,
            0,
            0,
        )
        assert [ln.sku_id for ln in order.lines] == [sku_id]
        shipped_to = await s.scalar(select(OrderAddress).where(OrderAddress.order_id == order.id))
        assert shipped_to is not None and shipped_to.country_code == "GB"
        postings = await s.scalars(
            select(LedgerTransaction).where(LedgerTransaction.reference.like(f"order:{order.id}:%"))
        )
        assert postings.all() == []
        told = await s.scalar(
            select(Notice).where(Notice.user_id == winner.id, Notice.kind == "giveaway.won")
        )
        assert told is not None and told.link == f"/orders/{order.id}"
        await s.rollback()
    assert (await stock_identity(db, sku_id))[:3] == (2, 0, 1)  # sold, trial balance zero
    # Drawing again, or re-delivering, changes nothing.
    assert_problem(
        await client.post(
            f"/api/v1/live/giveaways/{g['giveaway_id']}/draw", headers=creator.headers
        ),
        409,
        "giveaway-not-open",
    )
    redo = await client.post(
        f"/api/v1/live/giveaways/{g['giveaway_id']}/deliver", headers=creator.headers
    )
    assert redo.status_code == 200
    assert (await stock_identity(db, sku_id))[:3] == (2, 0, 1)


async def test_eligibility_followers_and_buyers_and_market_terms(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    terms = await client.patch(
        "/api/v1/markets/GB",
        json={"giveaway_terms": "UK entrants 18+ only."},
        headers=admin.headers,
    )
    assert terms.status_code == 200, terms.text
    creator, live, sku_id = await _room(client, make_actor)
    fans = (await _open(client, live, creator, sku_id=sku_id, eligibility="followers")).json()
    assert fans["terms"] == "UK entrants 18+ only."
    viewer = await _viewer(client, make_actor)
    refused = assert_problem(await _enter(client, fans["giveaway_id"], viewer), 403, "not-eligible")
    assert refused["eligibility"] == "followers"
    follow = await client.put(f"/api/v1/me/follows/creators/{creator.id}", headers=viewer.headers)
    assert follow.status_code in (200, 201, 204), follow.text
    assert (await _enter(client, fans["giveaway_id"], viewer)).status_code == 201
    cancelled = await client.post(
        f"/api/v1/live/giveaways/{fans['giveaway_id']}/cancel", headers=creator.headers
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (await stock_identity(db, sku_id))[:2] == (3, 0)  # the unit is back on sale

    buyers = (await _open(client, live, creator, sku_id=sku_id, eligibility="buyers")).json()
    assert_problem(await _enter(client, buyers["giveaway_id"], viewer), 403, "not-eligible")
    # Nobody entered: the draw names nobody and the unit goes back.
    empty = await client.post(
        f"/api/v1/live/giveaways/{buyers['giveaway_id']}/draw", headers=creator.headers
    )
    assert empty.json()["status"] == "drawn" and empty.json()["winner_entry"] is None
    assert (await stock_identity(db, sku_id))[:2] == (3, 0)

    # A buyer in this show may enter a buyers' giveaway.
    again = (await _open(client, live, creator, sku_id=sku_id, eligibility="buyers")).json()
    bought = await client.post(
        f"/api/v1/live/sessions/{live['id']}/buy",
        json={"sku_id": sku_id, "card_number": "4242424242424242"},
        headers={**viewer.headers, "Idempotency-Key": "buy-1"},
    )
    assert bought.status_code == 201 and bought.json()["status"] == "paid", bought.text
    assert (await _enter(client, again["giveaway_id"], viewer)).status_code == 201
    # A room that closes gives nothing away: the open giveaway is called off, its unit back.
    assert (await stock_identity(db, sku_id))[:3] == (1, 1, 1)
    ended = await client.post(f"/api/v1/live/sessions/{live['id']}/end", headers=creator.headers)
    assert ended.status_code == 200, ended.text
    after = (await client.get(f"/api/v1/live/giveaways/{again['giveaway_id']}")).json()
    assert after["status"] == "cancelled"
    assert (await stock_identity(db, sku_id))[:3] == (2, 0, 1)
    async with db.session() as s:
        market = await s.get(Market, "GB")
        assert market is not None and market.giveaway_terms == "UK entrants 18+ only."


async def test_bad_input_changes_nothing(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    creator, live, sku_id = await _room(client, make_actor)
    for body in (
        {"sku_id": sku_id, "entry_seconds": 5},
        {"sku_id": sku_id, "eligibility": "friends"},
        {"sku_id": True},
        {"sku_id": sku_id, "extra": 1},
        {"sku_id": 2**70},
    ):
        assert_problem(await _open(client, live, creator, **body), 422)
    for body in (
        {"seed": "x" * 64, "entries": []},
        {"seed": "0" * 64, "entries": ["a\x00"]},
        {"seed": "0" * 64, "entries": [], "more": 1},
    ):
        bad = await client.post("/api/v1/live/giveaways/verify", json=body)
        assert_problem(bad, 422)
    assert_problem(
        await client.get(f"/api/v1/live/sessions/{live['id']}/giveaway"), 404, "no-giveaway"
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32).map(bytes.hex),
    ids=st.sets(st.text("0123456789abcdef", min_size=16, max_size=16), min_size=1, max_size=40),
    shuffle=st.randoms(use_true_random=False),
)
def test_the_draw_depends_only_on_the_seed_and_the_set_of_entries(
    seed: str, ids: set[str], shuffle: Any
) -> None:
    listed = list(ids)
    shuffle.shuffle(listed)
    won = draw.winner(seed, listed)
    assert won in ids and won == draw.winner(seed, sorted(ids))


def test_the_draw_is_uniform_over_the_entries() -> None:
    """Over 6,000 seeds each of 6 entries wins about 1,000 times (chi-square, 5 degrees of
    freedom: 20.5 is the 0.1 % critical value)."""
    entries = [f"{i:016x}" for i in range(6)]
    wins = Counter(draw.winner(f"{n:064x}", entries) for n in range(6000))
    chi2 = sum((wins[e] - 1000) ** 2 / 1000 for e in entries)
    assert chi2 < 20.5, wins


async def test_concurrent_entries_count_once_each(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, live, sku_id = await _room(client, make_actor)
    g = (await _open(client, live, creator, sku_id=sku_id)).json()
    people = [await _viewer(client, make_actor) for _ in range(6)]
    taps = [_enter(client, g["giveaway_id"], who) for who in people for _ in range(3)]
    answers = await asyncio.gather(*taps)
    assert sorted(a.status_code for a in answers) == [201] * 6 + [409] * 12
    record = (await client.get(f"/api/v1/live/giveaways/{g['giveaway_id']}/entries")).json()
    shown = (await client.get(f"/api/v1/live/giveaways/{g['giveaway_id']}")).json()
    assert len(record["entries"]) == shown["entries"] == 6
