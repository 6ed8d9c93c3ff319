"""A parcel's tracking in the viewer's language (issue 21): the lines liveshop and its
simulated carrier write are shown translated, a hub's name too; a real carrier's own free
text is kept beside the translated status. Over HTTP: a Thai buyer's order page and an
Indonesian API caller (the shop's staff) read the timeline in their language, the carrier's
words still there for programs (``description``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from liveshop.accounts.models import User
from liveshop.core import i18n
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.logistics import signing
from liveshop.logistics.carriers import SimulatedCarrier
from liveshop.logistics.simulator import send_due
from liveshop.logistics.wording import event_words
from tests.logistics.conftest import MakeSold
from tests.web.test_pages import page_login


def test_known_lines_are_translated_and_a_carriers_own_words_kept() -> None:
    with i18n.use_locale("th"):
        late = event_words("delayed", "Delayed at the hub: a day late", "Bangkok hub")
        assert (late.text, late.carrier_text, late.location) == (
            "ล่าช้าที่ศูนย์: ช้าไปหนึ่งวัน",
            "",
            "ศูนย์ Bangkok",
        )
        assert event_words("picked_up", "Handed to Kerry Express").text == "ส่งให้ Kerry Express แล้ว"
        # A real carrier's free text: the status in Thai, its words beside it, as written.
        free = event_words("in_transit", "Arrived at Lat Krabang DC", "Lat Krabang")
        assert (free.text, free.carrier_text, free.location) == (
            "อยู่ระหว่างขนส่ง",
            "Arrived at Lat Krabang DC",
            "Lat Krabang",
        )
    with i18n.use_locale("id"):
        assert event_words("delivered", "").text == "Terkirim"
        assert event_words("out_for_delivery", "out for delivery").carrier_text == ""
    with i18n.use_locale("en_GB"):
        assert event_words("delivered", "Delivered").text == "Delivered"


async def test_a_thai_buyer_tracks_the_parcel_in_thai(
    app: Any, db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("delayed")
    sold = await make_sold()
    booked = await client.post(
        f"/api/v1/orders/{sold.order_id}/shipments",
        json={"carrier": "simulated", "weight_grams": 300, "length_mm": 200}
        | {"width_mm": 150, "height_mm": 50},
        headers=sold.store.seller.headers,
    )
    assert booked.status_code == 201, booked.text

    async def deliver(body: bytes, headers: dict[str, str]) -> str:
        answer = await client.post(
            "/api/v1/logistics/webhooks/simulated", content=body, headers=headers
        )
        return str(answer.json()["result"])

    secret = signing.secret_for("test-secret", "simulated")
    await send_due(db, secret, deliver, now=utcnow() + timedelta(days=30))

    async with db.session() as s:
        await s.execute(update(User).where(User.id == sold.buyer.id).values(language="th"))
        await s.commit()
    await page_login(client, sold.buyer)
    page = await client.get(f"/orders/{sold.order_id}")
    assert page.status_code == 200
    for thai in ("ล่าช้าที่ศูนย์: ช้าไปหนึ่งวัน", "รับพัสดุจากผู้ขายแล้ว", "ศูนย์ Birmingham"):
        assert thai in page.text
    for english in ("Delayed at the hub", "Collected from the seller", "Birmingham hub"):
        assert english not in page.text
    client.cookies.clear()

    # The shop's staff (no language of their own) with an Indonesian browser, over the API.
    api = await client.get(
        f"/api/v1/orders/{sold.order_id}/shipments",
        headers={**sold.store.seller.headers, "accept-language": "id-ID"},
    )
    late = next(e for e in api.json()[0]["events"] if e["status"] == "delayed")
    assert (late["text"], late["description"]) == (
        "Tertahan di hub: telat sehari",
        "Delayed at the hub: a day late",
    )
