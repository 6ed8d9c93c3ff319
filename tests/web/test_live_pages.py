"""The live room page and the creator studio over HTTP, on both databases: who may open and
act on what, CSRF on every studio form, and each action reaching the live domain."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.affiliates import plans
from liveshop.affiliates.models import PlanKind
from liveshop.catalog.products import get_product
from liveshop.core.db import Database
from liveshop.live import service as live
from liveshop.live.deals import service as deals
from liveshop.live.models import SessionStatus
from tests.support import Actor, MakeActor
from tests.web.test_pages import csrf_of, make_product, page_login

ROOM_DATA = re.compile(r'<script type="application/json" id="room-data">(.*?)</script>', re.S)


def room_data(page: httpx.Response) -> dict[str, Any]:
    found = ROOM_DATA.search(page.text)
    assert found, page.text[:500]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


async def _second_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def _schedule(client: httpx.AsyncClient, product_ids: list[int], title: str) -> int:
    form = await client.get("/studio")
    assert form.status_code == 200
    resp = await client.post(
        "/studio/sessions",
        data={
            "csrf_token": csrf_of(form),
            "title": title,
            "market": "GB",
            "planned_start": "2099-05-01T19:30",
            "duration_minutes": "45",
            "product_ids": [str(p) for p in product_ids],
        },
    )
    assert resp.status_code == 303, resp.text
    found = re.fullmatch(r"/studio/sessions/(\d+)", resp.headers["location"])
    assert found, resp.headers
    return int(found.group(1))


async def _post(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """A studio form as a browser sends it (CSRF field, from the show's page)."""
    back = "/".join(path.split("/")[:4])  # /studio/sessions/{id}
    token = csrf_of(await client.get("/studio"))
    headers = {"referer": f"http://testserver{back}"}
    return await client.post(path, data={"csrf_token": token, **fields}, headers=headers)


async def _open_plan(db: Database, product_ids: list[int]) -> None:
    async with db.session() as s:
        for product_id in product_ids:
            product = await get_product(s, product_id)
            await plans.create_plan(
                s,
                shop_id=product.shop_id,
                kind=PlanKind.OPEN,
                items=[plans.PlanItemSpec(rate_bp=1000, product_id=product_id)],
            )


async def _owner_setup(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> tuple[Actor, int, list[int], int]:
    seller = await make_actor(Role.SELLER)
    first, sku_id = await make_product(db, seller, "aurora", units=10)
    second, _ = await make_product(db, seller, "boreal", units=10)
    await _open_plan(db, [first, second])  # creators show products only under a plan
    creator = await make_actor(Role.CREATOR)
    await page_login(client, creator)
    session_id = await _schedule(client, [first, second], "Mugs, live")
    return creator, session_id, [first, second], sku_id


async def test_a_creator_runs_a_show_from_the_studio(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, (first, second), sku_id = await _owner_setup(db, client, make_actor)
    found = await live.get_session(session, session_id)
    assert (found.title, found.market_code, found.status) == ("Mugs, live", "GB", "scheduled")
    assert found.planned_start.isoformat() == "2099-05-01T18:30:00+00:00"  # London summer time
    assert await live.showcase_ids(session, session_id) == [first, second]

    base = f"/studio/sessions/{session_id}"
    page = await client.get(base)
    assert page.status_code == 200 and "Go live" in page.text
    # The short link for viewers on the platforms the show is simulcast to: the room.
    link = re.search(
        r'href="http://testserver(/l/[0-9a-z]+)" data-simulcast="short-link"', page.text
    )
    assert link, page.text
    to_room = await client.get(link.group(1))
    assert (to_room.status_code, to_room.headers["location"]) == (302, f"/live/{session_id}")
    assert (await client.get("/l/zzzzzzzz")).status_code == 404
    assert (await client.get("/l/no-such")).status_code == 404
    assert (await _post(client, f"{base}/start")).headers["location"] == base
    resp = await _post(client, f"{base}/pin", product_id=str(second))
    assert resp.status_code == 303
    resp = await _post(client, f"{base}/deals", sku_id=str(sku_id), price="9.99", units="3",
                       minutes="5")  # fmt: skip
    assert resp.status_code == 303, resp.text
    await session.rollback()
    found = await live.get_session(session, session_id)
    assert (found.status, found.pinned_product_id) == (SessionStatus.LIVE, second)
    running = await deals.active_deal(session, session_id)
    assert running is not None
    assert (running.deal.price_minor, running.deal.units, running.available) == (999, 3, 3)

    studio = await client.get(base)
    assert "3 of 3 left" in studio.text and "End deal" in studio.text
    resp = await _post(client, f"{base}/deals/{running.deal.id}/end")
    assert resp.status_code == 303
    resp = await _post(client, f"{base}/end")
    assert resp.status_code == 303
    await session.rollback()
    assert await deals.active_deal(session, session_id) is None
    assert (await live.get_session(session, session_id)).status == SessionStatus.ENDED


async def test_bad_deal_prices_change_nothing(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, _, sku_id = await _owner_setup(db, client, make_actor)
    base = f"/studio/sessions/{session_id}"
    await _post(client, f"{base}/start")
    for price in ("12.999", "abc", "0", "20.00"):  # too precise, not money, zero, above £12.50
        resp = await _post(client, f"{base}/deals", sku_id=str(sku_id), price=price, units="2",
                           minutes="5")  # fmt: skip
        assert resp.status_code == 303 and resp.headers["location"] == base
        shown = await client.get(base)
        assert 'class="flash flash-error"' in shown.text, price
    await session.rollback()
    assert await deals.active_deal(session, session_id) is None


async def test_another_creator_can_neither_see_nor_run_the_show(
    app: Any, db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, (first, _), _ = await _owner_setup(db, client, make_actor)
    async with await _second_client(app) as other:
        await page_login(other, await make_actor(Role.CREATOR))
        base = f"/studio/sessions/{session_id}"
        assert (await other.get(base)).status_code == 403
        token = csrf_of(await other.get("/studio"))
        for action, fields in (("start", {}), ("pin", {"product_id": str(first)})):
            resp = await other.post(f"{base}/{action}", data={"csrf_token": token, **fields})
            assert resp.status_code == 403, resp.text
    async with await _second_client(app) as buyer:
        await page_login(buyer, await make_actor(Role.BUYER))
        assert (await buyer.get(f"/studio/sessions/{session_id}")).status_code == 403
    async with await _second_client(app) as anonymous:
        resp = await anonymous.get(f"/studio/sessions/{session_id}")
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    await session.rollback()
    found = await live.get_session(session, session_id)
    assert (found.status, found.pinned_product_id) == (SessionStatus.SCHEDULED, None)


async def test_studio_forms_need_the_csrf_field(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, (first, _), _ = await _owner_setup(db, client, make_actor)
    base = f"/studio/sessions/{session_id}"
    for action, fields in (("start", {}), ("pin", {"product_id": str(first)}), ("cancel", {})):
        resp = await client.post(f"{base}/{action}", data=fields)
        assert resp.status_code == 403 and "This form has expired" in resp.text
    await session.rollback()
    found = await live.get_session(session, session_id)
    assert (found.status, found.pinned_product_id) == (SessionStatus.SCHEDULED, None)


async def test_the_room_page_carries_its_state(
    app: Any, db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    _, session_id, (first, _), sku_id = await _owner_setup(db, client, make_actor)
    base = f"/studio/sessions/{session_id}"
    await _post(client, f"{base}/start")
    await _post(client, f"{base}/pin", product_id=str(first))
    await _post(client, f"{base}/deals", sku_id=str(sku_id), price="7", units="4", minutes="10")

    async with await _second_client(app) as anonymous:
        page = await anonymous.get(f"/live/{session_id}")
    assert page.status_code == 200
    data = room_data(page)
    assert data["user"] is None and data["ws_path"] == f"/ws/live/{session_id}"
    assert data["money"] == {
        "locale": "en-GB",
        "currency": "GBP",
        "exponent": 2,
        "prefix": "£",
        "suffix": "",
    }
    assert data["pinned"]["product_id"] == first
    assert (data["deal"]["sku_id"], data["deal"]["price_minor"]) == (sku_id, 700)
    assert (data["deal"]["available"], data["deal"]["units"]) == (4, 4)
    assert "Log in to buy" in page.text and "Log in to chat" in page.text
    assert "£7.00" in page.text and "4 of 4 left" in page.text

    buyer = await make_actor(Role.BUYER)
    async with await _second_client(app) as signed_in:
        await page_login(signed_in, buyer)
        data = room_data(await signed_in.get(f"/live/{session_id}"))
    assert data["user"]["id"] == buyer.id and data["user"]["can_buy"] is True


async def test_the_studio_sets_a_per_buyer_limit_and_the_room_shows_it(
    app: Any, db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, (first, _), sku_id = await _owner_setup(db, client, make_actor)
    base = f"/studio/sessions/{session_id}"
    await _post(client, f"{base}/start")
    await _post(client, f"{base}/pin", product_id=str(first))
    for bad in ("0", "5", "abc", "9" * 40):  # zero, above the 4 units, not a number, huge
        resp = await _post(client, f"{base}/deals", sku_id=str(sku_id), price="7", units="4",
                           minutes="10", per_buyer_limit=bad)  # fmt: skip
        assert resp.status_code in (303, 422), resp.text
        if resp.status_code == 303:
            assert 'class="flash flash-error"' in (await client.get(base)).text, bad
    await session.rollback()
    assert await deals.active_deal(session, session_id) is None

    resp = await _post(client, f"{base}/deals", sku_id=str(sku_id), price="7", units="4",
                       minutes="10", per_buyer_limit="2")  # fmt: skip
    assert resp.status_code == 303, resp.text
    studio = await client.get(base)
    assert "Limit 2 per buyer" in studio.text
    await session.rollback()
    running = await deals.active_deal(session, session_id)
    assert running is not None and running.deal.per_buyer_limit == 2

    async with await _second_client(app) as anonymous:
        page = await anonymous.get(f"/live/{session_id}")
    assert room_data(page)["deal"]["per_buyer_limit"] == 2
    assert "Limit 2 per buyer" in page.text


async def test_an_empty_per_buyer_field_is_no_limit(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    _, session_id, _, sku_id = await _owner_setup(db, client, make_actor)
    base = f"/studio/sessions/{session_id}"
    await _post(client, f"{base}/start")
    resp = await _post(client, f"{base}/deals", sku_id=str(sku_id), price="7", units="4",
                       minutes="10", per_buyer_limit="")  # fmt: skip
    assert resp.status_code == 303, resp.text
    assert "No limit per buyer" in (await client.get(base)).text
    await session.rollback()
    running = await deals.active_deal(session, session_id)
    assert running is not None and running.deal.per_buyer_limit is None
