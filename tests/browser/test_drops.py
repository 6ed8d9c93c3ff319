"""A drop in a real browser: the creator picks the queue policy and a per-buyer limit in the
studio; on a 390 px phone a viewer sees the policy and the limit on the deal card, taps and
sees "Yours — pay within …", pays; a second viewer, after the last unit is taken, taps and
sees their place in line; the explanation page and a lottery's self-checking record."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo
from tests.browser.support import accessibility_problems, fill_flash_deal, fits_width, go_live


def test_a_queue_drop_holds_for_the_first_and_lines_up_the_next(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    creator = open_page("creator5@liveshop.demo")
    session_id = go_live(
        creator, "One speaker, fair and square", "Pocket Bluetooth Speaker, waterproof"
    )
    fill_flash_deal(creator, demo.sku_ids["VB-POCKET-TEAL"], "19", 1, per_buyer=1, policy="Queue")
    assert accessibility_problems(creator) == []
    creator.get_by_role("button", name="Start flash deal").click()
    expect(creator.locator(".flash-success")).to_contain_text("queue")
    expect(creator.locator(".deal-now .deal-policy")).to_contain_text("Queue")

    first = open_page("buyer6@liveshop.demo", viewport=PHONE)
    first.goto(f"/live/{session_id}")
    expect(first.locator("#room")).to_have_attribute("data-connection", "open")
    card = first.locator(".live-product.has-deal")
    expect(card.locator(".deal-limit")).to_have_text("Limit 1 per buyer")
    expect(card.locator(".deal-policy")).to_contain_text("Queue")
    expect(card.locator(".deal-policy")).to_contain_text("Join the line")
    assert fits_width(first, PHONE["width"])
    card.get_by_role("button", name="Tap to claim").click()
    expect(card.locator(".deal-standing")).to_have_text(
        re.compile(r"^Yours — pay within [45]:\d\d$")
    )
    expect(card.locator(".stock-text")).to_have_text("All claimed — line open")

    second = open_page("buyer10@liveshop.demo", viewport=PHONE)
    second.goto(f"/live/{session_id}")
    expect(second.locator("#room")).to_have_attribute("data-connection", "open")
    other = second.locator(".live-product.has-deal")
    expect(other.locator(".stock-text")).to_have_text("All claimed — line open")
    other.get_by_role("button", name="Tap to claim").click()  # the line is still open
    expect(other.locator(".deal-standing")).to_have_text("You're #1 in line")
    assert accessibility_problems(second) == []
    assert fits_width(second, PHONE["width"])

    sheet = first.get_by_role("dialog")  # the claim opened the pay sheet by itself
    expect(sheet.locator("[data-sheet=kicker]")).to_have_text("Yours — held for you")
    assert fits_width(first, PHONE["width"])
    sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d")).click()
    expect(first.locator("[data-region=toast]")).to_contain_text("Paid!")
    expect(card.locator(".deal-standing")).to_have_text("Yours — order placed")
    # Paid: the drop is sold out and over, and the line is told so.
    expect(other.locator(".stock-text")).to_have_text("SOLD OUT")
    expect(other.locator(".deal-standing")).to_have_text("Sold out — every unit was paid for")

    creator.get_by_role("button", name="End show").click()
    expect(creator.locator(".flash-info")).to_contain_text("The show has ended")


def test_a_winner_with_a_saved_card_pays_with_one_tap_over_the_room_socket(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    """Tap, then one tap to pay: the sheet offers the default saved card and pays the claim
    over the room's socket (no HTTP request to pay), in the node's batch."""
    buyer = open_page("buyer7@liveshop.demo", viewport=PHONE)
    buyer.goto("/account")
    buyer.locator("#payment-methods").get_by_role("button", name="Save card").click()
    expect(buyer.locator(".flash-success")).to_contain_text("is saved")

    creator = open_page("creator5@liveshop.demo")
    session_id = go_live(creator, "Two speakers, one tap", "Pocket Bluetooth Speaker, waterproof")
    fill_flash_deal(creator, demo.sku_ids["VB-POCKET-TEAL"], "21", 2, policy="Hold then pay")
    creator.get_by_role("button", name="Start flash deal").click()
    expect(creator.locator(".deal-now .deal-policy")).to_contain_text("Hold then pay")

    buyer.goto(f"/live/{session_id}")
    expect(buyer.locator("#room")).to_have_attribute("data-connection", "open")
    posted: list[str] = []
    buyer.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    card = buyer.locator(".live-product.has-deal")
    card.get_by_role("button", name="Tap to claim").click()
    expect(card.locator(".deal-standing")).to_have_text(
        re.compile(r"^Yours — pay within [45]:\d\d$")
    )
    sheet = buyer.get_by_role("dialog")  # opened by the claim
    pay = sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d with Visa •••• 4242$"))
    assert fits_width(buyer, PHONE["width"])
    pay.click()
    toast = buyer.locator("[data-region=toast]")
    expect(toast).to_contain_text("Paid!")
    expect(card.locator(".deal-standing")).to_have_text("Yours — order placed")
    # Tapped and paid on the socket: no HTTP claim, no HTTP payment.
    assert not [u for u in posted if u.endswith(("/claim", "/pay"))], posted
    order_id = int(re.findall(r"Order #(\d+)", toast.inner_text())[0])
    toast.get_by_role("link", name="View order").click()
    expect(buyer).to_have_url(re.compile(rf"/orders/{order_id}$"))
    expect(buyer.locator(".order-head .badge")).to_have_text("Paid")

    creator.get_by_role("button", name="End show").click()
    expect(creator.locator(".flash-info")).to_contain_text("The show has ended")


def test_the_fairness_page_explains_each_policy(open_page: Callable[..., Page]) -> None:
    page = open_page(viewport=PHONE)
    page.goto("/drops/fairness")
    for name in ("Hold then pay", "First paid wins", "Queue", "Lottery"):
        expect(page.get_by_role("heading", name=name)).to_be_visible()
    assert accessibility_problems(page) == []
    assert fits_width(page, PHONE["width"])
