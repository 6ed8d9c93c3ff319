"""The automatic comment filter's lists over HTTP and the node cache, on SQLite and
PostgreSQL: who manages which list, adding and removing terms, bad input changing nothing,
the "hold links" switches, platform terms per market and language, and a node's cache
reading once and hearing of changes made on another node."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.chat import filters
from liveshop.chat.filter_cache import CREATOR, PLATFORM, FilterCache
from liveshop.chat.filter_rules import Hit
from liveshop.core.broker import make_broker
from liveshop.core.db import Database
from tests.live.helpers import eventually
from tests.support import Actor, MakeActor, assert_problem

API = "/api/v1/live/chat-filter"


def _terms(out: dict[str, Any]) -> list[str]:
    return [t["term"] for t in out["terms"]]


async def _list(client: httpx.AsyncClient, who: Actor, creator: Actor) -> dict[str, Any]:
    resp = await client.get(f"{API}/creators/{creator.id}", headers=who.headers)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def test_who_manages_a_creators_list(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, other_creator = await make_actor(Role.CREATOR), await make_actor(Role.CREATOR)
    helper, one_show_helper = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    admin, platform_mod = await make_actor(Role.ADMIN), await make_actor(Role.MODERATOR)
    buyer = await make_actor(Role.BUYER)
    added = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert added.status_code == 201, added.text
    show = await client.post(
        "/api/v1/live/sessions",
        json={
            "title": "Show",
            "market": "GB",
            "planned_start": "2099-01-01T10:00:00+00:00",
            "planned_duration_minutes": 30,
            "product_ids": [],
        },
        headers=creator.headers,
    )
    assert show.status_code == 201, show.text
    one = await client.post(
        "/api/v1/live/moderators",
        json={"user_id": one_show_helper.id, "session_id": show.json()["id"]},
        headers=creator.headers,
    )
    assert one.status_code == 201, one.text

    url = f"{API}/creators/{creator.id}"
    body = {"terms": ["scam"]}
    for who in (creator, helper):
        assert (await client.get(url, headers=who.headers)).status_code == 200
    made = await client.post(f"{url}/terms", json=body, headers=helper.headers)
    assert made.status_code == 201, made.text
    term_id = made.json()["terms"][0]["id"]
    # Another creator, a one-show moderator, a buyer, an admin and a platform moderator:
    # not theirs to manage (the platform's list is the admins').
    for who in (other_creator, one_show_helper, buyer, admin, platform_mod):
        if who is not admin:  # admins may read it (trust and safety), not change it
            assert_problem(await client.get(url, headers=who.headers), 403, "not-filter-manager")
        refused = await client.post(f"{url}/terms", json=body, headers=who.headers)
        assert_problem(refused, 403, "not-filter-manager")
        gone = await client.delete(f"{url}/terms/{term_id}", headers=who.headers)
        assert_problem(gone, 403, "not-filter-manager")
        put = await client.put(f"{url}/settings", json={"hold_links": True}, headers=who.headers)
        assert_problem(put, 403, "not-filter-manager")
    # A buyer's own id is no creator's list.
    assert_problem(await client.get(f"{API}/creators/{buyer.id}", headers=buyer.headers), 403)
    assert_problem(await client.get(url), 401)
    # The platform's list: admins only.
    for who in (creator, helper, platform_mod, buyer):
        assert_problem(await client.get(f"{API}/platform", headers=who.headers), 403, "wrong-role")
        refused = await client.post(
            f"{API}/platform/terms", json={"terms": ["x"]}, headers=who.headers
        )
        assert_problem(refused, 403, "wrong-role")
    assert (await client.get(f"{API}/platform", headers=admin.headers)).status_code == 200
    assert _terms(await _list(client, creator, creator)) == ["scam"]
    assert _terms((await client.get(url, headers=admin.headers)).json()) == ["scam"]


async def test_add_remove_and_bad_input(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    creator = await make_actor(Role.CREATOR)
    url = f"{API}/creators/{creator.id}"
    resp = await client.post(
        f"{url}/terms",
        json={"terms": ["  Scam ", "ＦＡＫＥ", "kill   yourself"]},
        headers=creator.headers,
    )
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert _terms(out) == ["fake", "kill yourself", "scam"]
    assert out["added"] == ["scam", "fake", "kill yourself"]
    assert out["limits"] == {"max_terms": 1000, "term_max_chars": 50, "add_max": 100}
    again = await client.post(
        f"{url}/terms", json={"terms": ["SCAM", "fraud"]}, headers=creator.headers
    )
    assert again.json()["added"] == ["fraud"]

    # Bad input: a problem, and nothing changes (not even the good terms sent with it).
    before = _terms(await _list(client, creator, creator))
    for body, code in (
        ({"terms": []}, None),
        ({"terms": [""]}, "bad-term"),
        ({"terms": ["ok-term", "   "]}, "bad-term"),
        ({"terms": ["fine", "x" * 51]}, "bad-term"),
        ({"terms": ["1234"]}, "bad-term"),
        ({"terms": ["y" * 101]}, None),
        ({"terms": [f"t{i}" for i in range(101)]}, None),
        ({"terms": ["ok"], "extra": 1}, None),
        ({"term": "ok"}, None),
    ):
        bad = await client.post(f"{url}/terms", json=body, headers=creator.headers)
        assert_problem(bad, 422, code)
    assert _terms(await _list(client, creator, creator)) == before

    # Too many for the list: refused whole.
    limit = filters.CREATOR_TERMS_MAX
    for start in range(0, limit - len(before), 100):
        chunk = [f"w{i}x" for i in range(start, min(start + 100, limit - len(before)))]
        made = await client.post(f"{url}/terms", json={"terms": chunk}, headers=creator.headers)
        assert made.status_code == 201, made.text
    full = await _list(client, creator, creator)
    assert len(full["terms"]) == limit
    over = await client.post(f"{url}/terms", json={"terms": ["one more"]}, headers=creator.headers)
    assert_problem(over, 422, "too-many-terms")
    same = await client.post(f"{url}/terms", json={"terms": ["scam"]}, headers=creator.headers)
    assert same.status_code == 201 and same.json()["added"] == []  # already there: fine

    scam = next(t["id"] for t in full["terms"] if t["term"] == "scam")
    assert (await client.delete(f"{url}/terms/{scam}", headers=creator.headers)).status_code == 204
    assert_problem(await client.delete(f"{url}/terms/{scam}", headers=creator.headers), 404)
    other = await make_actor(Role.CREATOR)
    theirs = await client.post(
        f"{API}/creators/{other.id}/terms", json={"terms": ["mine"]}, headers=other.headers
    )
    their_id = theirs.json()["terms"][0]["id"]
    # A term of another creator's list cannot be removed through this one.
    assert_problem(
        await client.delete(f"{url}/terms/{their_id}", headers=creator.headers),
        404,
        "term-not-found",
    )

    put = await client.put(f"{url}/settings", json={"hold_links": True}, headers=creator.headers)
    assert put.status_code == 200 and put.json()["hold_links"] is True
    bad = await client.put(f"{url}/settings", json={"hold_links": "maybe"}, headers=creator.headers)
    assert_problem(bad, 422)
    assert (await _list(client, creator, creator))["hold_links"] is True


async def test_the_platforms_list_by_market_and_language(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    admin = await make_actor(Role.ADMIN)
    url = f"{API}/platform"
    for body in (
        {"terms": ["everywhere"]},
        {"terms": ["only gb"], "market": "gb"},
        {"terms": ["tiếng việt"], "language": "vi"},
    ):
        resp = await client.post(f"{url}/terms", json=body, headers=admin.headers)
        assert resp.status_code == 201, resp.text
    for body, code in (
        ({"terms": ["x"], "market": "ZZ"}, "unknown-market"),
        ({"terms": ["x"], "language": "xx"}, "unknown-language"),
        ({"terms": ["x"], "market": "GB", "language": "en"}, "bad-term-scope"),
        ({"terms": [""]}, "bad-term"),
    ):
        assert_problem(
            await client.post(f"{url}/terms", json=body, headers=admin.headers), 422, code
        )
    out = (await client.get(url, headers=admin.headers)).json()
    scopes = {(t["term"], t["market"], t["language"]) for t in out["terms"]}
    assert scopes == {
        ("everywhere", None, None),
        ("only gb", "GB", None),
        ("tiếng việt", None, "vi"),
    }
    set_gb = await client.put(
        f"{url}/settings", json={"hold_links": True, "market": "GB"}, headers=admin.headers
    )
    assert set_gb.status_code == 200
    assert set_gb.json()["hold_links"] is False and set_gb.json()["hold_links_markets"] == ["GB"]
    assert_problem(
        await client.put(
            f"{url}/settings", json={"hold_links": True, "market": "QQ"}, headers=admin.headers
        ),
        422,
        "unknown-market",
    )

    async with db.session() as s:
        gb = await filters.platform_rules(s, "GB")
        vn = await filters.platform_rules(s, "VN")
    assert gb == (("everywhere", "only gb"), True)
    assert vn == (("everywhere", "tiếng việt"), False)

    gone = next(t["id"] for t in out["terms"] if t["term"] == "only gb")
    assert (await client.delete(f"{url}/terms/{gone}", headers=admin.headers)).status_code == 204
    assert_problem(await client.delete(f"{url}/terms/{gone}", headers=admin.headers), 404)


async def test_the_cache_reads_once_and_hears_of_changes_on_other_nodes(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, admin = await make_actor(Role.CREATOR), await make_actor(Role.ADMIN)
    broker = make_broker("memory://")
    node_a, node_b = FilterCache(broker, db), FilterCache(broker, db)
    try:
        assert await node_b.check(creator.id, "GB", "total scam") is None
        assert await node_b.check(creator.id, "GB", "another scam") is None
        assert node_b.loads == 2  # the creator's list and GB's platform list, once each

        async with db.session() as s:
            await filters.add_creator_terms(s, creator.id, ["scam"], actor_id=creator.id)
        await node_a.creator_changed(creator.id)  # what the API does after the commit

        async def b_holds() -> bool:
            return await node_b.check(creator.id, "GB", "total SCAM") is not None

        await eventually(b_holds, within=2)
        assert await node_b.check(creator.id, "GB", "total scam") == Hit("creator_term", "scam")
        loads = node_b.loads
        for _ in range(50):  # no database read per comment
            await node_b.check(creator.id, "GB", "fine words")
        assert node_b.loads == loads

        async with db.session() as s:
            await filters.add_platform_terms(s, ["fraud"], market="GB", actor_id=admin.id)
            await filters.set_platform_hold_links(s, True, market="VN", actor_id=admin.id)
        await node_a.platform_changed()

        async def b_knows_platform() -> bool:
            return await node_b.check(creator.id, "GB", "fraud") is not None

        await eventually(b_knows_platform, within=2)
        assert await node_b.check(creator.id, "GB", "fraud!") == Hit("platform_term", "fraud")
        assert await node_b.check(creator.id, "VN", "fraud") is None  # a GB term
        assert await node_b.check(creator.id, "VN", "www.x.com") == Hit("link", "url")
        assert await node_b.check(creator.id, "GB", "www.x.com") is None

        # An unchanged list read again after the TTL is not compiled again.
        compiles = node_b.compiles
        node_b.ttl_s = 0.0
        await node_b.check(creator.id, "GB", "scam")
        assert node_b.compiles == compiles and node_b.loads > loads
        assert (CREATOR, creator.id) in node_b._entries and (PLATFORM, "GB") in node_b._entries
    finally:
        await node_a.close()
        await node_b.close()
        await broker.close()


async def test_the_lists_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    paths = doc["paths"]
    for path, method in (
        ("/api/v1/live/chat-filter/creators/{creator_id}", "get"),
        ("/api/v1/live/chat-filter/creators/{creator_id}/terms", "post"),
        ("/api/v1/live/chat-filter/creators/{creator_id}/terms/{term_id}", "delete"),
        ("/api/v1/live/chat-filter/creators/{creator_id}/settings", "put"),
        ("/api/v1/live/chat-filter/platform", "get"),
        ("/api/v1/live/chat-filter/platform/terms", "post"),
        ("/api/v1/live/chat-filter/platform/terms/{term_id}", "delete"),
        ("/api/v1/live/chat-filter/platform/settings", "put"),
    ):
        op = paths[path][method]
        assert op["description"] and op["tags"] == ["chat"]
        for status in ("401", "403", "404", "422"):
            assert "application/problem+json" in op["responses"][status]["content"]
    entry = doc["components"]["schemas"]["ModerationEntryOut"]["properties"]
    assert "filter" in entry
    assert set(doc["components"]["schemas"]["ActorRole"]["enum"]) >= {"creator", "filter"}


async def test_the_cache_keeps_a_bounded_number_of_lists(
    make_actor: MakeActor, db: Database
) -> None:
    creators = [await make_actor(Role.CREATOR) for _ in range(6)]
    broker = make_broker("memory://")
    cache = FilterCache(broker, db, max_kept=4)
    try:
        for c in creators:
            await cache.check(c.id, "GB", "hello")
        assert len(cache._compiled) <= 4 and len(cache._entries) <= 4
        assert (CREATOR, creators[-1].id) in cache._entries  # the newest stay
        loads = cache.loads
        await cache.check(creators[0].id, "GB", "hello")  # forgotten: read again
        assert cache.loads == loads + 1
    finally:
        await cache.close()
        await broker.close()
