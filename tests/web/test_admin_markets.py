"""The admin's markets page sets a market's return window, flat shipping fee and dispatch
promise (both DBs)."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.audit.models import AuditEntry
from liveshop.markets import service as markets
from tests.support import MakeActor
from tests.web.test_pages import csrf_of, page_login


async def test_admin_sets_return_window_and_shipping_fee(
    client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    await page_login(client, await make_actor(Role.ADMIN))
    page = await client.get("/admin?rates=ID")
    assert page.status_code == 200
    assert 'value="10.000,00"' in page.text  # Rp 10.000 as Indonesia writes it
    token = csrf_of(page)

    saved = await client.post(
        "/admin/markets/ID/rules",
        data={"csrf_token": token, "return_window_days": "10", "shipping_fee": "12.500"},
    )
    assert saved.status_code == 303, saved.text
    await session.rollback()
    found = await markets.get_market(session, "ID")
    assert (found.return_window_days, found.shipping_fee_minor) == (10, 1_250_000)
    shown = await client.get(saved.headers["location"])
    assert "returns within 10 days" in shown.text

    free = await client.post(
        "/admin/markets/GB/rules",
        data={"csrf_token": token, "return_window_days": "14", "shipping_fee": "0.00"},
    )
    assert free.status_code == 303
    for bad in (
        {"return_window_days": "-1", "shipping_fee": "3.00"},
        {"return_window_days": "400", "shipping_fee": "3.00"},
        {"return_window_days": "14", "shipping_fee": "-3"},
        {"return_window_days": "14", "shipping_fee": "3.001"},
    ):
        resp = await client.post("/admin/markets/GB/rules", data={"csrf_token": token, **bad})
        assert resp.status_code == 422, (bad, resp.text[:300])
    await session.rollback()
    gb = await markets.get_market(session, "GB")
    assert (gb.return_window_days, gb.shipping_fee_minor) == (14, 0)


async def test_only_admins_post_market_rules(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    await page_login(client, await make_actor(Role.SELLER))
    token = csrf_of(await client.get("/"))
    resp = await client.post(
        "/admin/markets/GB/rules",
        data={"csrf_token": token, "return_window_days": "1", "shipping_fee": "1.00"},
    )
    assert resp.status_code == 403


async def test_admin_sets_the_dispatch_promise(
    client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    """Beside the market's rules: the dispatch deadline and the auto-cancel grace (working
    days), audit-logged; out of range is a 422 and changes nothing; sellers cannot."""
    admin = await make_actor(Role.ADMIN)
    await page_login(client, admin)
    page = await client.get("/admin?rates=TH")
    assert 'id="dispatch-days"' in page.text and 'value="2"' in page.text
    token = csrf_of(page)
    saved = await client.post(
        "/admin/markets/TH/dispatch",
        data={"csrf_token": token, "dispatch_days": "3", "auto_cancel_days": "5"},
    )
    assert saved.status_code == 303, saved.text
    shown = await client.get(saved.headers["location"])
    assert "dispatch within 3 working days" in shown.text
    for bad in ({"dispatch_days": "0", "auto_cancel_days": "5"}, {"dispatch_days": "3"}):
        resp = await client.post("/admin/markets/TH/dispatch", data={"csrf_token": token, **bad})
        assert resp.status_code == 422, (bad, resp.text[:300])
    await session.rollback()
    th = await markets.get_market(session, "TH")
    assert (th.dispatch_days, th.auto_cancel_days) == (3, 5)
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.target_id == "TH"))).one()
    assert (entry.action, entry.actor_id) == ("market.rates", admin.id)
    assert entry.before == {"dispatch_days": 2, "auto_cancel_days": 3}

    client.cookies.clear()
    await page_login(client, await make_actor(Role.SELLER))
    denied = await client.post(
        "/admin/markets/TH/dispatch",
        data={"csrf_token": csrf_of(await client.get("/")), "dispatch_days": "9"}
        | {"auto_cancel_days": "9"},
    )
    assert denied.status_code == 403


async def test_admin_sets_the_markets_giveaway_terms(
    client: httpx.AsyncClient, make_actor: MakeActor, session: AsyncSession
) -> None:
    await page_login(client, await make_actor(Role.ADMIN))
    page = await client.get("/admin?rates=GB")
    assert "Giveaway terms" in page.text
    token = csrf_of(page)
    saved = await client.post(
        "/admin/markets/GB/giveaway-terms",
        data={"csrf_token": token, "terms": "Open to UK residents aged 18+."},
    )
    assert saved.status_code == 303, saved.text
    await session.rollback()
    assert (await markets.get_market(session, "GB")).giveaway_terms == (
        "Open to UK residents aged 18+."
    )
    assert "Open to UK residents aged 18+." in (await client.get("/admin?rates=GB")).text
    bad = await client.post(
        "/admin/markets/GB/giveaway-terms", data={"csrf_token": token, "terms": "a\x00b"}
    )
    assert bad.status_code == 422
    cleared = await client.post(
        "/admin/markets/GB/giveaway-terms", data={"csrf_token": token, "terms": ""}
    )
    assert cleared.status_code == 303
    await session.rollback()
    assert (await markets.get_market(session, "GB")).giveaway_terms is None
