"""Saved cards in a real browser, on a 390 px phone: a buyer saves the sandbox card on the
account page ("Payment methods"), then buys in a live room with one tap — the sheet says
"Pay £… with Visa •••• 4242"; the tap claims the units (held in the server's batch) and pays
the claim naming no card number, both over the room's socket — and finds the order paid.
Another buyer, with no saved card, pays with the test card and ticks "save this card": their
next buy is one tap too."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import accessibility_problems, fits_width, go_live

PRODUCT = "20,000 mAh USB-C Power Bank 65 W"  # one option, £45.00 in GB
CLAIM_API = re.compile(r"/api/v1/live/sessions/\d+/claim$")
BUY_API = re.compile(r"/api/v1/live/shelf-claims/\d+/pay$")  # the claim's payment


def _go_live(creator: Page) -> int:
    session_id = go_live(creator, "Power for the road", PRODUCT)
    creator.get_by_role("button", name=f"Pin {PRODUCT}").click()
    expect(creator.locator(".pin-row.is-pinned")).to_contain_text(PRODUCT)
    return session_id


def test_a_buyer_saves_a_card_then_buys_in_the_room_with_one_tap(
    open_page: Callable[..., Page],
) -> None:
    creator = open_page("creator5@liveshop.demo")
    session_id = _go_live(creator)

    buyer = open_page("buyer17@liveshop.demo", viewport=PHONE)
    buyer.goto("/account")
    section = buyer.locator("#payment-methods")
    expect(section.get_by_role("heading", name="Payment methods")).to_be_visible()
    expect(section.locator(".saved-cards-empty")).to_contain_text("No saved cards yet")
    assert accessibility_problems(buyer) == []
    assert fits_width(buyer, PHONE["width"])
    expect(section.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    section.get_by_role("button", name="Save card").click()
    expect(buyer.locator(".flash-success")).to_have_text(
        "Visa •••• 4242 is saved. It is your default card."
    )
    saved = buyer.locator(".saved-card")
    expect(saved).to_have_count(1)
    expect(saved.locator(".saved-card-label")).to_have_text("Visa •••• 4242")
    expect(saved.locator(".badge")).to_have_text("Default")
    assert accessibility_problems(buyer) == []
    assert fits_width(buyer, PHONE["width"])

    frames: list[dict[str, object]] = []  # what the page sends on the room socket
    buyer.on(
        "websocket",
        lambda ws: ws.on(
            "framesent",
            lambda payload: (
                frames.append(json.loads(payload)) if isinstance(payload, str) else None
            ),
        ),
    )
    posted: list[str] = []
    buyer.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    buyer.goto(f"/live/{session_id}")
    expect(buyer.locator("#room")).to_have_attribute("data-connection", "open")
    card = buyer.locator(".live-product", has_text=PRODUCT)
    card.get_by_role("button", name="Buy").click()
    sheet = buyer.get_by_role("dialog")
    expect(sheet.locator("[data-sheet=card-text]")).to_have_text("Paying with Visa •••• 4242")
    expect(sheet.get_by_role("link", name="Change card")).to_have_attribute(
        "href", f"/account?next=%2Flive%2F{session_id}#payment-methods"
    )
    expect(sheet.get_by_label("Save this card for one-tap pay")).to_be_hidden()
    pay = sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d with Visa •••• 4242$"))
    expect(pay).to_be_enabled()
    total = re.findall(r"£\d+\.\d\d", pay.inner_text())[0]
    assert accessibility_problems(buyer) == []
    assert fits_width(buyer, PHONE["width"])
    pay.click()  # the one tap
    toast = buyer.locator("[data-region=toast]")
    expect(toast).to_contain_text("Paid!")
    # Claimed and paid on the room socket (no HTTP claim, no HTTP payment, no card number):
    # the claim of one unit, then the one-tap pay of that claim with the default card.
    assert not [u for u in posted if CLAIM_API.search(u) or BUY_API.search(u)], posted
    claim = next(f for f in frames if f.get("type") == "claim")
    paid = next(f for f in frames if f.get("type") == "pay")
    assert claim["quantity"] == 1 and paid["kind"] == "shelf"
    assert "card_number" not in paid and isinstance(paid["claim_id"], int)
    expect(toast).to_contain_text(total)  # charged what the button said
    order_id = int(re.findall(r"Order #(\d+)", toast.inner_text())[0])
    toast.get_by_role("link", name="View order").click()
    expect(buyer).to_have_url(re.compile(rf"/orders/{order_id}$"))
    expect(buyer.locator(".order-head .badge")).to_have_text("Paid")

    # Without a saved card: the test card, and "save this card" makes the next buy one tap.
    other = open_page("buyer10@liveshop.demo", viewport=PHONE)
    other.goto(f"/live/{session_id}")
    expect(other.locator("#room")).to_have_attribute("data-connection", "open")
    other.locator(".live-product", has_text=PRODUCT).get_by_role("button", name="Buy").click()
    sheet = other.get_by_role("dialog")
    expect(sheet.get_by_role("link", name="Add a card")).to_be_visible()
    save = sheet.get_by_label("Save this card for one-tap pay")
    expect(save).not_to_be_checked()
    save.check()
    assert fits_width(other, PHONE["width"])
    with other.expect_request(BUY_API) as sent:
        sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d with test card 4242")).click()
    body = json.loads(sent.value.post_data or "{}")
    assert isinstance(body["saved_card_id"], int) and "card_number" not in body
    expect(other.locator("[data-region=toast]")).to_contain_text("Paid!")
    other.locator(".live-product", has_text=PRODUCT).get_by_role("button", name="Buy").click()
    one_tap = re.compile(r"^Pay £\d+\.\d\d with Visa •••• 4242$")
    expect(sheet.get_by_role("button", name=one_tap)).to_be_enabled()
    sheet.get_by_role("button", name="Close").click()
    other.goto("/account")
    expect(other.locator(".saved-card .saved-card-label")).to_have_text(["Visa •••• 4242"])

    creator.get_by_role("button", name="End show").click()
    expect(creator.locator(".flash-info")).to_contain_text("The show has ended")
