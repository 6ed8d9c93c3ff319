"""Live sessions over HTTP: scheduling, showcase rules, the status machine, who may act."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from liveshop.accounts.models import Role
from liveshop.affiliates.models import AffiliatePlan
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.live import activity
from liveshop.live.models import LiveComment, LiveSession
from tests.live.helpers import affiliate_plan, new_session, showcase_product
from tests.support import MakeActor, assert_problem

URL = "/api/v1/live/sessions"


def body(product_ids: list[int], **overrides: object) -> dict[str, object]:
    return {
        "title": "Friday glow-up",
        "market": "gb",
        "planned_start": (utcnow() + timedelta(hours=2)).isoformat(),
        "planned_duration_minutes": 90,
        "product_ids": product_ids,
        **overrides,
    }


async def test_creator_schedules_a_session_with_a_showcase(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, "glow")
    resp = await client.post(URL, json=body([product["id"]]), headers=creator.headers)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["status"] == "scheduled"
    assert (made["market"], made["currency"], made["creator_id"]) == ("GB", "GBP", creator.id)
    assert made["ws_path"] == f"/ws/live/{made['id']}"
    assert [p["product_id"] for p in made["showcase"]] == [product["id"]]
    assert made["showcase"][0]["skus"][0]["price_minor"] == 1899
    assert made["gmv_minor"] == 0 and made["pinned"] is None

    public = await client.get(f"{URL}/{made['id']}")
    assert public.status_code == 200 and public.json()["title"] == "Friday glow-up"
    listed = await client.get(URL, params={"status": "scheduled", "market": "GB"})
    assert [s["id"] for s in listed.json()["items"]] == [made["id"]]
    assert (await client.get(URL, params={"status": "live"})).json()["total"] == 0
    assert (await client.get(URL, params={"market": "VN"})).json()["total"] == 0
    assert_problem(await client.get(f"{URL}/424242"), 404, "live-session-not-found")


async def test_only_creators_schedule_and_bad_input_is_refused(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    product = await showcase_product(client, seller, "glow")
    hidden = await showcase_product(client, seller, "hidden", allow_creators=False)
    draft = await showcase_product(client, seller, "draft", publish=False)
    vn_only = await showcase_product(client, seller, "vnonly", price_gb=None)

    assert_problem(await client.post(URL, json=body([])), 401)
    assert_problem(await client.post(URL, json=body([]), headers=buyer.headers), 403, "wrong-role")
    for pid, reason in (
        (hidden["id"], "the shop does not let creators sell its products"),
        (draft["id"], "the product is not published"),
        (vn_only["id"], "the product has no price in GB"),
        (999_999, "no such product"),
    ):
        resp = await client.post(URL, json=body([product["id"], pid]), headers=creator.headers)
        problem = assert_problem(resp, 422, "product-not-showcasable")
        assert (problem["product_id"], problem["reason"]) == (pid, reason)
    planned = await client.post(URL, json=body([], market="DE"), headers=creator.headers)
    assert_problem(planned, 422, "market-not-open")
    past = body([], planned_start=(utcnow() - timedelta(days=1)).isoformat())
    assert_problem(await client.post(URL, json=past, headers=creator.headers), 422)
    naive = body([], planned_start="2030-01-01T10:00:00")
    assert_problem(await client.post(URL, json=naive, headers=creator.headers), 422)
    long = body([], planned_duration_minutes=2000)
    assert_problem(await client.post(URL, json=long, headers=creator.headers), 422)
    extra = body([], colour="red")
    assert_problem(await client.post(URL, json=extra, headers=creator.headers), 422)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(LiveSession)) == 0


async def test_status_machine_and_owner_only(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    other, admin = await make_actor(Role.CREATOR), await make_actor(Role.ADMIN)
    product = await showcase_product(client, seller, "glow")
    sid = (await new_session(client, creator, [product["id"]]))["id"]

    assert_problem(await client.post(f"{URL}/{sid}/start", headers=other.headers), 403)
    assert_problem(await client.post(f"{URL}/{sid}/end", headers=creator.headers), 409)
    started = await client.post(f"{URL}/{sid}/start", headers=creator.headers)
    assert started.status_code == 200 and started.json()["status"] == "live"
    assert started.json()["actual_start"] is not None
    again = await client.post(f"{URL}/{sid}/start", headers=creator.headers)
    assert_problem(again, 409, "illegal-session-transition")
    assert_problem(await client.post(f"{URL}/{sid}/cancel", headers=creator.headers), 409)
    ended = await client.post(f"{URL}/{sid}/end", headers=admin.headers)  # admins may
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert ended.json()["actual_end"] >= ended.json()["actual_start"]
    assert_problem(await client.post(f"{URL}/{sid}/start", headers=creator.headers), 409)

    sid2 = (await new_session(client, creator, []))["id"]
    cancelled = await client.post(f"{URL}/{sid2}/cancel", headers=creator.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_problem(await client.post(f"{URL}/{sid2}/start", headers=creator.headers), 409)
    listed = await client.get(URL, params={"status": "cancelled"})
    assert [s["id"] for s in listed.json()["items"]] == [sid2]


async def test_ending_a_session_whose_settlement_fails_still_ends_it(
    client: httpx.AsyncClient, make_actor: MakeActor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The creator's fees are settled after the end is committed; if that fails (an admin
    re-runs it), the creator still gets the ended session back, not a server error."""
    from liveshop.creators import settlement

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("settlement failed")

    monkeypatch.setattr(settlement, "settle_session", broken)
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, "glow")
    sid = (await new_session(client, creator, [product["id"]], start=True))["id"]
    ended = await client.post(f"{URL}/{sid}/end", headers=creator.headers)
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended" and ended.json()["actual_end"] is not None
    assert (await client.get(f"{URL}/{sid}")).json()["status"] == "ended"


async def test_showcase_and_pin_rules(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    a = await showcase_product(client, seller, "alpha")
    b = await showcase_product(client, seller, "beta", title="Beta Balm", plan=False)
    sid = (await new_session(client, creator, [a["id"]]))["id"]

    other = await make_actor(Role.CREATOR)
    refused = await client.put(
        f"{URL}/{sid}/showcase", json={"product_ids": [b["id"]]}, headers=other.headers
    )
    assert_problem(refused, 403, "not-session-owner")
    not_shown = await client.post(
        f"{URL}/{sid}/pin", json={"product_id": b["id"]}, headers=creator.headers
    )
    assert_problem(not_shown, 422, "not-in-showcase")
    pinned = await client.post(
        f"{URL}/{sid}/pin", json={"product_id": a["id"]}, headers=creator.headers
    )
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["pinned"]["title"] == "Rose Glow Serum 30 ml"
    detail = (await client.get(f"{URL}/{sid}")).json()
    assert detail["pinned_product_id"] == a["id"] and detail["pinned"]["product_id"] == a["id"]

    # A product joins a creator's showcase only under an affiliate plan.
    no_plan = await client.put(
        f"{URL}/{sid}/showcase", json={"product_ids": [b["id"]]}, headers=creator.headers
    )
    assert assert_problem(no_plan, 422, "no-affiliate-plan")["product_id"] == b["id"]
    assert (await client.get(f"{URL}/{sid}")).json()["pinned_product_id"] == a["id"]
    await affiliate_plan(client, seller, b["shop_id"], b["id"])

    # Replacing the showcase without the pinned product unpins it.
    replaced = await client.put(
        f"{URL}/{sid}/showcase", json={"product_ids": [b["id"]]}, headers=creator.headers
    )
    assert replaced.status_code == 200, replaced.text
    assert [p["title"] for p in replaced.json()["showcase"]] == ["Beta Balm"]
    assert replaced.json()["pinned_product_id"] is None

    await client.post(f"{URL}/{sid}/cancel", headers=creator.headers)
    late = await client.post(
        f"{URL}/{sid}/pin", json={"product_id": b["id"]}, headers=creator.headers
    )
    assert_problem(late, 409, "session-closed")


async def test_a_creator_shows_products_only_under_a_plan_for_them(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    rival = await make_actor(Role.CREATOR)
    bare = await showcase_product(client, seller, "bare", plan=False)
    opened = await showcase_product(client, seller, "opened")
    rivals = await showcase_product(client, seller, "rivals", plan=False)
    await affiliate_plan(
        client, seller, rivals["shop_id"], rivals["id"], kind="targeted", creator_ids=[rival.id]
    )
    mine = await showcase_product(client, seller, "mine", plan=False)
    await affiliate_plan(
        client, seller, mine["shop_id"], mine["id"], kind="targeted", creator_ids=[creator.id]
    )
    lapsed = await showcase_product(client, seller, "lapsed", plan=False)
    ended = await affiliate_plan(
        client, seller, lapsed["shop_id"], lapsed["id"], kind="targeted", creator_ids=[creator.id]
    )
    async with db.session() as s:  # the targeted plan ran last month and has expired
        await s.execute(
            update(AffiliatePlan)
            .where(AffiliatePlan.id == ended["id"])
            .values(
                valid_from=utcnow() - timedelta(days=40),
                valid_until=utcnow() - timedelta(days=10),
            )
        )
        await s.commit()

    # Scheduling with a showcase, and replacing it, both refuse a product without a plan
    # for this creator now, and change nothing.
    sid = (await new_session(client, creator, [opened["id"]]))["id"]
    for product in (bare, rivals, lapsed):
        resp = await client.post(
            URL, json=body([opened["id"], product["id"]]), headers=creator.headers
        )
        problem = assert_problem(resp, 422, "no-affiliate-plan")
        assert problem["product_id"] == product["id"]
        resp = await client.put(
            f"{URL}/{sid}/showcase",
            json={"product_ids": [opened["id"], product["id"]]},
            headers=creator.headers,
        )
        assert_problem(resp, 422, "no-affiliate-plan")
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(LiveSession)) == 1
    detail = (await client.get(f"{URL}/{sid}")).json()
    assert [p["product_id"] for p in detail["showcase"]] == [opened["id"]]

    # An open plan, or a targeted plan naming this creator that is valid now: fine.
    ok = await client.put(
        f"{URL}/{sid}/showcase",
        json={"product_ids": [opened["id"], mine["id"]]},
        headers=creator.headers,
    )
    assert ok.status_code == 200, ok.text
    assert [p["product_id"] for p in ok.json()["showcase"]] == [opened["id"], mine["id"]]
    # The rival creator's own targeted plan lets them show that product.
    theirs = await new_session(client, rival, [rivals["id"], opened["id"]])
    assert [p["product_id"] for p in theirs["showcase"]] == [rivals["id"], opened["id"]]

    # A product already shown stays when its plan ends; removing products is never refused.
    async with db.session() as s:
        await s.execute(
            update(AffiliatePlan)
            .where(AffiliatePlan.shop_id == opened["shop_id"])
            .values(valid_until=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    kept = await client.put(
        f"{URL}/{sid}/showcase", json={"product_ids": [opened["id"]]}, headers=creator.headers
    )
    assert kept.status_code == 200, kept.text
    assert [p["product_id"] for p in kept.json()["showcase"]] == [opened["id"]]

    # A shop's own staff need no plan: no commission is due on their own shop's products.
    owner = await make_actor(Role.SELLER, Role.CREATOR)
    own = await showcase_product(client, owner, "own", plan=False)
    shown = await new_session(client, owner, [own["id"]])
    assert [p["product_id"] for p in shown["showcase"]] == [own["id"]]


async def test_moderators_of_a_creator(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    creator, helper = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    added = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert added.status_code == 201, added.text
    same = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert same.json()["id"] == added.json()["id"]  # adding twice changes nothing
    mine = await client.get("/api/v1/live/moderators", headers=creator.headers)
    assert [m["user_id"] for m in mine.json()] == [helper.id]
    nobody = await client.post(
        "/api/v1/live/moderators", json={"user_id": 987654}, headers=creator.headers
    )
    assert_problem(nobody, 404, "user-not-found")
    gone = await client.delete(
        f"/api/v1/live/moderators/{added.json()['id']}", headers=creator.headers
    )
    assert gone.status_code == 204
    assert (await client.get("/api/v1/live/moderators", headers=creator.headers)).json() == []


async def test_a_moderator_of_one_session_runs_only_that_session(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, helper = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    first = (await new_session(client, creator, []))["id"]
    second = (await new_session(client, creator, []))["id"]
    body = {"user_id": helper.id, "session_id": first}
    added = await client.post("/api/v1/live/moderators", json=body, headers=creator.headers)
    assert added.status_code == 201, added.text
    # The room controls (here: who is muted) answer for that session only.
    ok = await client.get(f"{URL}/{first}/mutes", headers=helper.headers)
    assert ok.status_code == 200, ok.text
    refused = await client.get(f"{URL}/{second}/mutes", headers=helper.headers)
    assert_problem(refused, 403, "not-room-host")


async def test_comments_only_while_live_and_sales_add_up(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    sid = (await new_session(client, creator, []))["id"]
    async with db.session() as s:
        with pytest.raises(Problem) as refused:
            await activity.post_comment(s, session_id=sid, user_id=buyer.id, text="too early")
        assert refused.value.code == "room-not-live"
    await client.post(f"{URL}/{sid}/start", headers=creator.headers)
    async with db.session() as s:
        await activity.post_comment(s, session_id=sid, user_id=buyer.id, text="hi")
        await activity.record_sale(s, sid, gmv_minor=1899, currency="GBP")
        await activity.record_sale(s, sid, gmv_minor=3798, currency="gbp", orders=2)
        await s.commit()
        count = await s.scalar(select(func.count()).select_from(LiveComment))
    assert count == 1
    detail = (await client.get(f"{URL}/{sid}")).json()
    assert (detail["comments_count"], detail["orders_count"], detail["gmv_minor"]) == (1, 3, 5697)
    async with db.session() as s:
        with pytest.raises(Problem) as refused:
            await activity.record_sale(s, sid, gmv_minor=100, currency="EUR")
        assert refused.value.code == "sale-session-mismatch"


async def test_comments_are_stored_in_batches_only_for_live_sessions(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    from liveshop.live.activity import SessionComments
    from liveshop.realtime.comment_writer import CommentWriter

    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    live_id = (await new_session(client, creator, [], start=True))["id"]
    waiting_id = (await new_session(client, creator, []))["id"]
    writer = CommentWriter(db, SessionComments())
    try:
        results = await asyncio.gather(
            *(
                writer.post(session_id=sid, user_id=buyer.id, text=f"line {n}")
                for n, sid in enumerate([live_id, waiting_id, live_id, live_id])
            ),
            return_exceptions=True,
        )
    finally:
        await writer.close()
    refused = results[1]
    assert isinstance(refused, Problem) and refused.code == "room-not-live"
    stored = [r for r in results if isinstance(r, int)]
    assert len(stored) == 3 and stored == sorted(stored)
    async with db.session() as s:
        texts = (await s.scalars(select(LiveComment.text).order_by(LiveComment.id))).all()
    assert texts == ["line 0", "line 2", "line 3"]
    live = (await client.get(f"{URL}/{live_id}")).json()
    waiting = (await client.get(f"{URL}/{waiting_id}")).json()
    assert (live["comments_count"], waiting["comments_count"]) == (3, 0)
