"""Affiliate, agency and contract pages on both databases: a seller's plan reaches a creator's
showcase and the seller sees what the creator sold; a rate cut applies from now on and the
creator's contract page shows each order's rate next to today's; an agency invites a creator
who accepts and sees their show and its share — and the wrong people get 403/404."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.affiliates import invitations
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live import service as live
from liveshop.live.models import SessionStatus
from tests.shopfront import add_contract, buy
from tests.support import MakeActor
from tests.web.test_pages import make_product
from tests.web.test_promotion_pages import _find, _text, signed_in


async def _schedule(db: Database, creator_id: int) -> int:
    async with db.session() as s:
        made = await live.create_session(
            s,
            creator_id=creator_id,
            title="Mug hour",
            market_code="GB",
            planned_start=utcnow() + timedelta(minutes=1),
            planned_duration_minutes=60,
        )
        return made.id


async def _go_live(db: Database, session_id: int) -> None:
    async with db.session() as s:
        await live.transition(s, await live.get_session(s, session_id), SessionStatus.LIVE)


async def test_a_plan_from_the_seller_to_a_showcase_and_back_as_sales(
    app: Any, db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller, creator, buyer = (
        await make_actor(Role.SELLER),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    other_seller, other_creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    product_id, sku_id = await make_product(db, seller, "planmugs")
    show_id = await _schedule(db, creator.id)

    async with signed_in(app, creator) as (c, token):
        assert "No plans open to you" in _text(await c.get("/studio/plans"))
        refused = await c.post(
            "/studio/plans/add",
            data={"csrf_token": token, "product_id": product_id, "session_id": show_id},
            headers={"referer": "http://testserver/studio/plans"},
        )
        assert refused.status_code == 303  # back with the reason: no plan covers it yet
        assert "no affiliate plan" in _text(await c.get("/studio/plans"))

    async with signed_in(app, seller) as (s, token):
        page = await s.get("/seller/affiliate-plans")
        shop_id = _find(r'name="shop_id" value="(\d+)"', page.text)
        bad = await s.post(
            "/seller/affiliate-plans",
            data={"csrf_token": token, "shop_id": shop_id, "kind": "open",
                  "product_id": product_id, "product_rate": "150"},
            headers={"referer": "http://testserver/seller/affiliate-plans"},
        )  # fmt: skip
        assert bad.status_code == 303
        assert "at most 100" in _text(await s.get("/seller/affiliate-plans"))
        made = await s.post(
            "/seller/affiliate-plans",
            data={"csrf_token": token, "shop_id": shop_id, "kind": "open", "name": "Mug friends",
                  "product_id": product_id, "product_rate": "10"},
        )  # fmt: skip
        assert made.status_code == 303, made.text
        plan_path = made.headers["location"]
        assert "Mug friends" in _text(await s.get(plan_path))

    async with signed_in(app, other_seller) as (o, token):
        assert (await o.get(plan_path)).status_code == 403
        await o.post(f"{plan_path}/end", data={"csrf_token": token})
    async with signed_in(app, buyer) as (b, _token):
        assert (await b.get("/seller/affiliate-plans")).status_code == 403
        assert (await b.get("/studio/plans")).status_code == 403

    async with signed_in(app, other_creator) as (oc, token):
        theirs = await oc.post(
            "/studio/plans/add",
            data={"csrf_token": token, "product_id": product_id, "session_id": show_id},
        )
        assert theirs.status_code == 403  # not their show

    async with signed_in(app, creator) as (c, token):
        offers = _text(await c.get("/studio/plans"))
        assert "Planmugs · Mug friends" in offers and "10 % commission" in offers
        added = await c.post(
            "/studio/plans/add",
            data={"csrf_token": token, "product_id": product_id, "session_id": show_id},
        )
        assert added.status_code == 303
        assert "is in the showcase of “Mug hour”" in _text(await c.get("/studio/plans"))
    async with db.session() as s:
        assert await live.showcase_ids(s, show_id) == [product_id]

    await _go_live(db, show_id)
    await buy(client, buyer, sku_id, quantity=2, live_session_id=show_id)

    async with signed_in(app, seller) as (s, token):
        usage = _text(await s.get(plan_path))
        # £12.50 incl. 20 % VAT: net £10.417 per mug, 10 % → £1.04 each
        assert "1 product" in usage and "£25.00" in usage and "£2.08" in usage
        cut = await s.post(
            plan_path,
            data={"csrf_token": token, "name": "Mug friends", "product_id": product_id,
                  "product_rate": "5"},
        )  # fmt: skip
        assert cut.status_code == 303, cut.text
        assert cut.headers["location"] != plan_path
        assert "ended" in _text(await s.get(plan_path))
        assert "5 %" in _text(await s.get(cut.headers["location"]))

    async with signed_in(app, creator) as (c, _token):
        terms = await c.get("/studio/contract")
        row = re.search(r'data-rate-then="(\d+)".*?data-rate-now="(\d*)"', terms.text, re.S)
        assert row is not None and row.groups() == ("1000", "500")
        assert "A cut never rewrites the past" in _text(terms)


async def test_an_agency_invites_a_creator_who_accepts(
    app: Any, db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin, owner, creator = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.AGENCY),
        await make_actor(Role.CREATOR),
    )
    buyer, seller, stranger = (
        await make_actor(Role.BUYER),
        await make_actor(Role.SELLER),
        await make_actor(Role.CREATOR),
    )
    made = await client.post(
        "/api/v1/agencies", json={"name": "Glow MCN", "owner_id": owner.id}, headers=admin.headers
    )
    agency_id = made.json()["id"]
    assert (await add_contract(client, admin, creator.id, base_fee_minor=10_000)).status_code == 201

    async with signed_in(app, owner) as (a, token):
        assert "No creators yet" in _text(await a.get("/agency"))
        for email, share, problem in (
            ("nobody@example.com", "20", "No creator has the e-mail address"),
            (buyer.email, "20", "No creator has the e-mail address"),
            (creator.email, "120", "at most 100"),
        ):
            await a.post(
                "/agency/invitations",
                data={"csrf_token": token, "agency_id": agency_id, "email": email,
                      "share": share, "currency": "GBP"},
                headers={"referer": "http://testserver/agency"},
            )  # fmt: skip
            assert problem in _text(await a.get("/agency")), problem
        sent = await a.post(
            "/agency/invitations",
            data={"csrf_token": token, "agency_id": agency_id, "email": creator.email,
                  "share": "20", "currency": "GBP", "message": "Join us"},
        )  # fmt: skip
        assert sent.status_code == 303
        assert "pending" in _text(await a.get("/agency"))

    for who in (buyer, seller):
        async with signed_in(app, who) as (x, _token):
            assert (await x.get("/agency")).status_code == 403
    async with signed_in(app, stranger) as (x, token):
        page = _text(await x.get("/studio/contract"))
        assert "Glow MCN invites you" not in page
        async with db.session() as s:
            invitation_id = (await invitations.for_creator(s, creator.id))[0].id
        stolen = await x.post(
            f"/studio/invitations/{invitation_id}/accept", data={"csrf_token": token}
        )
        assert stolen.status_code == 404

    show_id = await _schedule(db, creator.id)
    async with signed_in(app, creator) as (c, token):
        page = _text(await c.get("/studio/contract"))
        assert "Glow MCN invites you to join them" in page and "20 %" in page
        ok = await c.post(f"/studio/invitations/{invitation_id}/accept", data={"csrf_token": token})
        assert ok.status_code == 303
        page = _text(await c.get("/studio/contract"))
        assert "Version 2" in page and "Glow MCN takes 20 %" in page
        again = await c.post(
            f"/studio/invitations/{invitation_id}/decline",
            data={"csrf_token": token},
            headers={"referer": "http://testserver/studio/contract"},
        )
        assert again.status_code == 303
        assert "already been answered" in _text(await c.get("/studio/contract"))

    await _go_live(db, show_id)
    async with db.session() as s:
        show = await live.get_session(s, show_id)
        await live.transition(s, show, SessionStatus.ENDED)  # settles: base fee, 20 % to us
    async with signed_in(app, owner) as (a, _token):
        board = await a.get("/agency")
        shown = _text(board)
        assert "Mug hour" in shown and "Contract v2: your share 20 %" in shown
        share = re.search(rf'data-show="{show_id}".*?data-share="(\d+)"', board.text, re.S)
        assert share is not None and share.group(1) == "2000"  # 20 % of it is the agency's
        assert "£20.00" in shown


async def test_an_upcoming_change_is_shown_with_its_notice(
    app: Any, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin, creator = await make_actor(Role.ADMIN), await make_actor(Role.CREATOR)
    assert (await add_contract(client, admin, creator.id, base_fee_minor=50_000)).status_code == 201
    later = (utcnow() + timedelta(days=14, hours=1)).isoformat()
    cut = await add_contract(client, admin, creator.id, base_fee_minor=30_000, effective_from=later)
    assert cut.status_code == 201
    async with signed_in(app, creator) as (c, _token):
        page = _text(await c.get("/studio/contract"))
        assert "Version 2 applies on" in page and "in 14 days" in page
        assert "announced with 14 days' notice" in page
        assert "Base fee £300.00" in page and "Until then: Base fee £500.00" in page
