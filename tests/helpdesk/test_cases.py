"""Complaints routed to seller support, on SQLite and PostgreSQL: a complaint in a live room is
held from the room, becomes a case for the seller with the author's right order attached,
and its author alone is told; the shop's inbox and case (who may see them, bad input);
replying and resolving notify the buyer (inbox and outbox); the creator sees only a count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.catalog.models import Sku
from liveshop.chat.models import ModerationLogEntry
from liveshop.core.db import Database
from liveshop.helpdesk import service
from liveshop.helpdesk.classify import Category
from liveshop.notices.models import Notice
from liveshop.orders.models import Order
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, affiliate_plan, new_session
from tests.orders.conftest import Store, checkout, pay
from tests.support import Actor, MakeActor, assert_problem

MakeStore = Callable[..., Awaitable[Store]]


async def _paid(client: httpx.AsyncClient, buyer: Actor, store: Store, key: str) -> int:
    placed = await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key=key)
    assert placed.status_code == 201, placed.text
    order_id = int(placed.json()["id"])
    assert (await pay(client, buyer, order_id)).json()["status"] == "paid"
    return order_id


async def _product(db: Database, sku_id: int) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(Sku.product_id).where(Sku.id == sku_id)) or 0)


async def _notices(db: Database, user_id: int) -> list[tuple[str, str]]:
    async with db.session(deferred=True) as s:
        rows = await s.execute(
            select(Notice.kind, Notice.subject).where(Notice.user_id == user_id).order_by(Notice.id)
        )
        return [(k, t) for k, t in rows.all()]


async def test_a_delivery_complaint_in_the_room_becomes_a_case_with_the_right_order(
    db: Database, serve: Serve, make_actor: MakeActor, make_store: MakeStore
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        shop_a, shop_b = await make_store(), await make_store()
        creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
        # The buyer's orders: two from the show's shop (the newer one still packing, the
        # older one on its way) and a newer one from another shop.
        on_its_way = await _paid(http, buyer, shop_a, "a1")
        packing = await _paid(http, buyer, shop_a, "a2")
        await _paid(http, buyer, shop_b, "b1")
        async with db.session() as s:
            await s.execute(update(Order).where(Order.id == on_its_way).values(status="shipped"))
            await s.commit()
        product = await _product(db, shop_a.sku_id)
        await affiliate_plan(http, shop_a.seller, shop_a.shop_id, product)
        sid = int((await new_session(http, creator, [product], start=True))["id"])

        author = await RoomClient.open(base, sid, token=buyer.token)
        watcher = await RoomClient.open(base, sid)
        for c in (author, watcher):
            await c.snapshot()
        await author.send({"type": "comment", "text": "kak paket saya belum sampai juga"})
        opened = await author.until("case_opened")
        assert opened["new"] is True and opened["order_id"] == on_its_way
        assert opened["shop"] == "Shop " + opened["shop"].split(" ")[1]  # the shop's name
        await author.send({"type": "comment", "text": "where is my parcel??"})
        added = await author.until("case_opened")
        assert (added["case_id"], added["new"]) == (opened["case_id"], False)
        await author.send({"type": "comment", "text": "love the serum"})
        await watcher.until("comment", text="love the serum")
        seen = [e.get("text") for e in watcher.events if e.get("type") == "comment"]
        assert seen == ["love the serum"]  # the complaints were held from the room
        for c in (author, watcher):
            await c.close()

        case_id = int(opened["case_id"])
        async with db.session(deferred=True) as s:
            logged = (
                await s.scalars(
                    select(ModerationLogEntry.filter_rule).where(
                        ModerationLogEntry.session_id == sid
                    )
                )
            ).all()
            assert list(logged) == ["complaint", "complaint"]
            assert await service.session_case_count(s, sid) == 1
        assert (await _notices(db, buyer.id))[-1][0] == "support.opened"

        # The shop's inbox: its staff only.
        inbox = f"/api/v1/shops/{shop_a.shop_id}/support/cases"
        listed = (await http.get(inbox, headers=shop_a.seller.headers)).json()
        assert [(c["id"], c["order_id"], c["category"], c["sla"]) for c in listed] == [
            (case_id, on_its_way, "delivery", "due")
        ]
        assert listed[0]["first_line"] == "kak paket saya belum sampai juga"
        assert 0 < listed[0]["sla_seconds"] <= service.FIRST_REPLY_HOURS * 3600
        assert_problem(await http.get(inbox, headers=shop_b.seller.headers), 403)
        assert_problem(await http.get(inbox, headers=buyer.headers), 403)
        other = f"/api/v1/shops/{shop_b.shop_id}/support/cases"
        assert (await http.get(other, headers=shop_b.seller.headers)).json() == []
        assert packing != on_its_way


async def test_reply_and_resolve_notify_the_buyer(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_store: MakeStore
) -> None:
    store, elsewhere = await make_store(), await make_store()
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    stranger = await make_actor(Role.BUYER)
    delivered = await _paid(client, buyer, store, "d1")
    async with db.session() as s:
        await s.execute(update(Order).where(Order.id == delivered).values(status="delivered"))
        await s.commit()
    product = await _product(db, store.sku_id)
    await affiliate_plan(client, store.seller, store.shop_id, product)
    sid = int((await new_session(client, creator, [product], start=True))["id"])
    async with db.session() as s:
        opened = await service.open_from_comment(
            s,
            session_id=sid,
            buyer_id=buyer.id,
            comment_id=1,
            text="wrong size arrived",
            category=Category.ORDER,
        )
    assert opened is not None and opened.order_id == delivered
    case = f"/api/v1/support/cases/{opened.case_id}"

    # Who may read it: the buyer, the shop's staff; nobody else.
    for reader in (buyer, store.seller):
        got = await client.get(case, headers=reader.headers)
        assert got.status_code == 200 and got.json()["messages"][0]["body"] == "wrong size arrived"
    for outsider in (stranger, elsewhere.seller):
        assert_problem(await client.get(case, headers=outsider.headers), 403)
    assert_problem(await client.get("/api/v1/support/cases/424242", headers=buyer.headers), 404)

    replies = f"{case}/replies"
    for bad in ({}, {"body": ""}, {"body": "x\x00"}, {"body": "ok", "extra": 1}, {"body": 5}):
        assert_problem(await client.post(replies, json=bad, headers=store.seller.headers), 422)
    assert_problem(
        await client.post(replies, json={"body": "hi"}, headers=elsewhere.seller.headers), 403
    )
    assert_problem(await client.post(replies, json={"body": "hi"}, headers=buyer.headers), 403)
    answered = await client.post(
        replies, json={"body": "Sorry! A new one ships today."}, headers=store.seller.headers
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["sla"] == "met" and answered.json()["first_reply_at"]

    resolved = await client.post(
        f"{case}/resolve", json={"body": "Exchanged."}, headers=store.seller.headers
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = await client.post(f"{case}/resolve", json={}, headers=store.seller.headers)
    assert_problem(again, 409, "case-resolved")
    late = await client.post(replies, json={"body": "also"}, headers=store.seller.headers)
    assert_problem(late, 409, "case-resolved")
    kinds = [k for k, _ in await _notices(db, buyer.id)]
    assert kinds[-3:] == ["support.opened", "support.reply", "support.resolved"]
    # The buyer sees it; the creator gets the count, never the case.
    page = await client.get(f"/support/cases/{opened.case_id}", headers=buyer.headers)
    assert page.status_code == 200 and "Exchanged." in page.text
    assert_problem(await client.get(case, headers=creator.headers), 403)
    studio = await client.get(f"/studio/sessions/{sid}", headers=creator.headers)
    assert "1 complaint from this show went to seller support." in studio.text
    assert buyer.email not in studio.text
