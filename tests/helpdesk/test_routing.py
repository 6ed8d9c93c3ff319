"""Where a complaint goes when its author has no order from any shop of the show (SQLite
and PostgreSQL): to the shop of the product on screen when they wrote; nothing pinned, to
the shop the host owns; else the showcase's first. The case records that no order matched
(``routed_by``) and the seller's case page says why it came to them."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.catalog.models import ShopStaff, ShopStaffRole
from liveshop.core.db import Database
from liveshop.helpdesk import service
from liveshop.helpdesk.classify import Category
from liveshop.helpdesk.models import SupportCase
from liveshop.live.models import LiveSession
from tests.helpdesk.test_cases import MakeStore, _paid, _product
from tests.live.helpers import affiliate_plan, new_session
from tests.support import MakeActor
from tests.web.test_pages import page_login


async def _complain(db: Database, sid: int, buyer_id: int, comment_id: int) -> SupportCase:
    async with db.session() as s:
        opened = await service.open_from_comment(
            s,
            session_id=sid,
            buyer_id=buyer_id,
            comment_id=comment_id,
            text="where is my parcel",
            category=Category.DELIVERY,
        )
        assert opened is not None
        case = await s.get(SupportCase, opened.case_id)
        assert case is not None
        s.expunge(case)
        return case


async def _pin(db: Database, sid: int, product_id: int | None) -> None:
    async with db.session() as s:
        await s.execute(
            update(LiveSession).where(LiveSession.id == sid).values(pinned_product_id=product_id)
        )
        await s.commit()


async def test_a_complaint_without_an_order_goes_to_the_product_on_screen(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_store: MakeStore
) -> None:
    first, second = await make_store(), await make_store()
    creator = await make_actor(Role.CREATOR)
    products = [await _product(db, first.sku_id), await _product(db, second.sku_id)]
    for store, product in zip((first, second), products, strict=True):
        await affiliate_plan(client, store.seller, store.shop_id, product)
    sid = int((await new_session(client, creator, products, start=True))["id"])
    strangers = [await make_actor(Role.BUYER) for _ in range(3)]

    # The second shop's product is on screen: the complaint goes there, no order attached.
    await _pin(db, sid, products[1])
    pinned = await _complain(db, sid, strangers[0].id, 1)
    assert (pinned.shop_id, pinned.order_id, pinned.routed_by) == (second.shop_id, None, "pinned")

    # Nothing pinned and the host owns no shop: the showcase's first shop.
    await _pin(db, sid, None)
    showcase = await _complain(db, sid, strangers[1].id, 2)
    assert (showcase.shop_id, showcase.routed_by) == (first.shop_id, "showcase")

    # The host owns the second shop: with nothing pinned, it is theirs.
    async with db.session() as s:
        s.add(ShopStaff(shop_id=second.shop_id, user_id=creator.id, role=ShopStaffRole.OWNER))
        await s.commit()
    owned = await _complain(db, sid, strangers[2].id, 3)
    assert (owned.shop_id, owned.routed_by) == (second.shop_id, "owner")

    # An author with an order from a shop of the show: that shop, whatever is on screen.
    buyer = await make_actor(Role.BUYER)
    order_id = await _paid(client, buyer, first, "r1")
    await _pin(db, sid, products[1])
    matched = await _complain(db, sid, buyer.id, 4)
    assert (matched.shop_id, matched.order_id, matched.routed_by) == (
        first.shop_id,
        order_id,
        "order",
    )

    # The seller's case page says why a case without an order came to them.
    listed = await client.get(
        f"/api/v1/shops/{second.shop_id}/support/cases", headers=second.seller.headers
    )
    assert {c["id"]: c["routed_by"] for c in listed.json()} == {
        pinned.id: "pinned",
        owned.id: "owner",
    }
    await page_login(client, second.seller)
    page = await client.get(f"/seller/support/{pinned.id}?shop={second.shop_id}")
    assert page.status_code == 200, page.text[:300]
    assert "your product was on screen when they wrote" in page.text
    assert 'role="timer"' in page.text and "/static/js/sla.js" in page.text  # ticks live
