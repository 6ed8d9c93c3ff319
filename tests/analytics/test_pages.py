"""The analytics pages show what the API and the CSV say, to whom they belong: the method
page (anyone), a show's per-minute charts (its creator), a creator's shows, who sells a
shop's goods (its staff), a market's readiness (admins)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from liveshop.accounts.models import Role
from liveshop.analytics import rollup
from liveshop.analytics.capture import Capture, Facts, epoch_minute, event_row
from liveshop.analytics.models import Kind
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.orders.payments.sandbox import SandboxProvider
from tests.shopfront import MakeShopfront, buy_in_live, start_session
from tests.support import Actor, MakeActor
from tests.web.test_pages import page_login


@pytest.fixture
async def as_(app: Any) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    async def _as(actor: Actor | None) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(c)
        if actor is not None:
            await page_login(c, actor)
        return c

    yield _as
    for c in clients:
        await c.aclose()


def _cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    cells = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]
    return [row for row in cells if row]


async def test_the_pages_say_what_the_csv_says_and_only_to_their_people(
    db: Database, as_: Any, make_actor: MakeActor, make_shopfront: MakeShopfront
) -> None:
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    admin = await make_actor(Role.ADMIN)
    sid = await start_session(db, creator.id)
    async with db.session() as s:
        await buy_in_live(
            s,
            SandboxProvider("s", delay_s=-1),
            buyer_id=buyer.id,
            sku_id=shop.sku_id,
            live_session_id=sid,
            quantity=1,
            key="p1",
        )
    capture = Capture(db, "secret")
    t = utcnow() - timedelta(minutes=20)
    for i in range(3):
        for m in range(2):
            capture.add(
                event_row(
                    Kind.HEARTBEAT,
                    Facts("GB", sid, creator.id),
                    at=t + timedelta(minutes=m),
                    viewer=f"viewer-{i}",
                    seconds=60,
                )
            )
    capture.add(event_row(Kind.PIN, Facts("GB", sid, creator.id), at=t, product_id=shop.product_id))
    await capture.flush()
    async with db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(utcnow()))

    anyone = await as_(None)
    method = await anyone.get("/analytics/method")
    assert method.status_code == 200 and "visible" in method.text and "Googlebot" not in method.text

    mine = await as_(creator)
    page = await mine.get(f"/studio/sessions/{sid}/analytics")
    assert page.status_code == 200, page.text
    assert re.search(r'data-kpi="unique">3<', page.text)
    assert re.search(r'data-kpi="buyers">1<', page.text)
    assert "<svg" in page.text and "chart-mark-pin" in page.text
    csv = await mine.get(f"/api/v1/analytics/sessions/{sid}/minutes.csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("minute_utc,viewers")
    assert [line.split(",")[1] for line in lines[1:]] == ["3", "3"]
    assert (await mine.get("/studio/analytics")).status_code == 200
    other = await as_(await make_actor(Role.CREATOR))
    assert (await other.get(f"/studio/sessions/{sid}/analytics")).status_code == 403

    seller = await as_(shop.seller)
    sellers = await seller.get(f"/seller/analytics?shop={shop.shop_id}")
    assert sellers.status_code == 200
    rows = _cells(sellers.text, "sellers")
    assert rows[0][1] == "Glow hour" and rows[0][2] == "1"
    csv = await seller.get(f"/api/v1/analytics/shops/{shop.shop_id}/sellers.csv")
    assert csv.text.splitlines()[1].split(",")[3:5] == ["Glow hour", "1"]
    stranger = await as_(await make_actor(Role.SELLER))
    assert (await stranger.get(f"/seller/analytics?shop={shop.shop_id}")).status_code in (403, 404)

    boss = await as_(admin)
    ready = await boss.get("/admin/markets/GB/readiness")
    assert ready.status_code == 200
    assert "data-advice" in ready.text
    table = _cells(ready.text, "weeks")
    weeks_csv = (await boss.get("/api/v1/analytics/markets/GB/weeks.csv")).text.splitlines()[1:]
    assert len(table) == len(weeks_csv)
    for row, line in zip(table, weeks_csv, strict=True):
        assert row[1:5] == line.split(",")[1:5]  # reached, viewers, buyers, repeat
    assert table[-1][3] == "1"  # this week's buyer
    assert "Readiness" in (await boss.get("/admin")).text
    assert (await mine.get("/admin/markets/GB/readiness")).status_code == 403
