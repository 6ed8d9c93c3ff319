"""Notices and their e-mails are worded in the RECIPIENT's language (issue 21) — their own
choice, else the language of the market the notice is about — never in the language of the
request or task that caused them: an English-speaking seller's click tells a Thai buyer in
Thai (inbox and e-mail), the overdue sweeper (no request at all) writes in the buyer's
language (and the order page gives its reason in it), and one show going live tells each
follower in theirs."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import httpx
from sqlalchemy import select, update

from liveshop.accounts.models import Role, User
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.logistics import sla
from liveshop.notices import email
from liveshop.notices.models import EmailStatus, Notice
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from tests.addresses.examples import address
from tests.live.helpers import new_session
from tests.notices.test_email import smtp  # noqa: F401 (the local SMTP server fixture)
from tests.shopfront import MakeShopfront, buy
from tests.support import MakeActor
from tests.web.test_pages import page_login

ENGLISH = {"Accept-Language": "en-GB"}


async def _speaks(db: Database, user_id: int, language: str | None) -> None:
    async with db.session() as s:
        await s.execute(update(User).where(User.id == user_id).values(language=language))
        await s.commit()


async def _told(db: Database, user_id: int) -> list[Notice]:
    async with db.session(deferred=True) as s:
        rows = await s.scalars(select(Notice).where(Notice.user_id == user_id).order_by(Notice.id))
        return list(rows)


async def test_an_english_sellers_shipment_tells_a_thai_buyer_in_thai_inbox_and_email(
    db: Database,
    client: httpx.AsyncClient,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
    smtp: Any,  # noqa: F811
) -> None:
    controller, handler = smtp
    shop = await make_shopfront()
    buyer = await make_actor(Role.BUYER)
    await _speaks(db, buyer.id, "th")
    await client.post("/api/v1/me/addresses", json=address("GB"), headers=buyer.headers)
    order = await buy(client, buyer, shop.sku_id, quantity=1)
    shipped = await client.post(
        f"/api/v1/orders/{order['id']}/shipments",
        json={
            "carrier": "manual",
            "tracking_number": "RM42",
            "carrier_name": "Royal Mail",
            "weight_grams": 100,
            "length_mm": 10,
            "width_mm": 10,
            "height_mm": 10,
        },
        headers={**shop.seller.headers, **ENGLISH},
    )
    assert shipped.status_code == 201, shipped.text
    [notice] = await _told(db, buyer.id)
    assert notice.subject == f"คำสั่งซื้อ #{order['id']} จัดส่งแล้ว"
    assert "RM42" in notice.body and "has your parcel" not in notice.body

    # The inbox page shows it as written, and the e-mail sent from it is in Thai too.
    inbox = await client.get("/inbox", headers=buyer.headers)
    assert notice.subject in inbox.text
    async with db.session() as s:
        await s.execute(update(Notice).values(email_status=EmailStatus.PENDING))
        await s.commit()
    config = email.SmtpConfig(host="127.0.0.1", port=controller.port, sender="shop@ls.test")
    assert await email.send_pending(db, config) == 1
    [mail] = handler.messages
    assert str(make_header(decode_header(mail["Subject"]))) == notice.subject
    assert notice.body in mail.get_payload(decode=True).decode()


async def test_the_overdue_sweeper_writes_in_the_buyers_language(
    db: Database, client: httpx.AsyncClient, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    shop = await make_shopfront()
    thai, english = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    await _speaks(db, thai.id, "th")
    orders = {}
    for who in (thai, english):
        await client.post("/api/v1/me/addresses", json=address("GB"), headers=who.headers)
        orders[who.id] = (await buy(client, who, shop.sku_id, quantity=1))["id"]
    async with db.session() as s:
        await s.execute(update(Order).values(paid_at=utcnow() - timedelta(days=10)))
        await s.commit()
    async with db.session() as s:
        cancelled = await sla.cancel_overdue(s, SandboxProvider("sandbox", delay_s=-1))
    assert sorted(cancelled) == sorted(orders.values())
    [th_notice] = await _told(db, thai.id)
    [en_notice] = await _told(db, english.id)
    assert th_notice.subject == f"คำสั่งซื้อ #{orders[thai.id]} ถูกยกเลิกและคืนเงินแล้ว"
    assert "ผู้ขายไม่ได้ส่งของภายใน" in th_notice.body
    assert en_notice.subject == f"Order #{orders[english.id]} was cancelled and refunded"
    assert en_notice.body.startswith("The seller did not send it by ")
    # The order page gives the sweeper's reason in the buyer's words too (the API keeps it
    # as stored).
    await page_login(client, thai)
    page = await client.get(f"/orders/{orders[thai.id]}")
    assert "ผู้ขายไม่ได้ส่งภายในกำหนด" in page.text and "not dispatched" not in page.text


async def test_a_show_going_live_tells_each_follower_in_their_language(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR, name="Sari")
    show = await new_session(client, creator, [], market="ID")
    own, thai, british = [await make_actor() for _ in range(3)]
    await _speaks(db, thai.id, "th")
    await _speaks(db, british.id, "en_GB")
    for who in (own, thai, british):
        followed = await client.put(
            f"/api/v1/me/follows/creators/{creator.id}", headers=who.headers
        )
        assert followed.status_code == 200
    started = await client.post(
        f"/api/v1/live/sessions/{show['id']}/start", headers={**creator.headers, **ENGLISH}
    )
    assert started.status_code == 200, started.text
    subjects = {who.id: (await _told(db, who.id))[0].subject for who in (own, thai, british)}
    async with db.session(deferred=True) as s:
        name = await s.scalar(select(User.display_name).where(User.id == creator.id))
    assert subjects[own.id] == f"{name} sedang live: Friday glow-up"  # the show's market's
    assert subjects[thai.id] == f"{name} กำลังไลฟ์: Friday glow-up"
    assert subjects[british.id] == f"{name} is live: Friday glow-up"
