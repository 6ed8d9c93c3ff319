"""Delivery in a real browser, the buyer on a 390 px phone: the buyer adds an address (a bad
postcode is named first), buys in a live room with one tap and sees the delivery estimate on
the pinned card and, with the address, in the sheet; the seller finds the order in the
to-ship queue, books a parcel with the simulated carrier and opens its label; the carrier's
signed webhooks arrive (the server runs its clock fast, with a delay on the way) and the
buyer's order page shows the timeline and "Delivered"."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import accessibility_problems, fits_width, go_live

PRODUCT = "10-inch Ring Light with Tripod"  # Voltbox (seller3), one option, £29.00 in GB
ETA = re.compile(r"^Arrives \w{3} \d{1,2}( \w{3})? – \w{3} \d{1,2} \w{3}")


def test_address_buy_ship_track(open_page: Callable[..., Page], screenshots: Path) -> None:
    buyer = open_page("buyer16@liveshop.demo", viewport=PHONE)
    buyer.goto("/account")
    buyer.get_by_role("link", name="Delivery addresses").click()
    expect(buyer.locator(".addresses-empty")).to_contain_text("No addresses yet")
    form = buyer.locator(".add-address-form")
    form.get_by_label("Country", exact=True).select_option("GB")
    form.get_by_label("Full name").fill("Grace Hopper")
    form.get_by_label("Phone").fill("07911 123456")
    form.get_by_label("Street address").fill("10 Downing Street")
    form.get_by_label("Town / city").fill("London")
    form.get_by_label("Postcode / ZIP").fill("XX")
    form.get_by_role("button", name="Save address").click()
    expect(buyer.locator("#err-postal_code")).to_have_text(
        "Postcode / ZIP is not valid in this country."
    )
    expect(form.get_by_label("Street address")).to_have_value("10 Downing Street")
    form.get_by_label("Postcode / ZIP").fill("sw1a 2aa")
    form.get_by_role("button", name="Save address").click()
    expect(buyer.locator(".flash-success")).to_contain_text("Address saved. It is your default")
    saved = buyer.locator(".address")
    expect(saved).to_have_count(1)
    expect(saved).to_contain_text("SW1A 2AA")
    expect(saved.locator(".badge")).to_have_text("Default in GB")
    assert accessibility_problems(buyer) == []
    assert fits_width(buyer, PHONE["width"])
    buyer.screenshot(path=screenshots / "addresses-phone.png")

    creator = open_page("creator2@liveshop.demo")
    session_id = go_live(creator, "Light for your lives", PRODUCT)
    creator.get_by_role("button", name=f"Pin {PRODUCT}").click()
    expect(creator.locator(".pin-row.is-pinned")).to_contain_text(PRODUCT)

    buyer.goto(f"/live/{session_id}")
    expect(buyer.locator("#room")).to_have_attribute("data-connection", "open")
    card = buyer.locator(".live-product", has_text=PRODUCT)
    expect(card.locator(".lp-eta")).to_have_text(ETA)
    card.get_by_role("button", name="Buy").click()
    sheet = buyer.get_by_role("dialog")
    delivery = sheet.locator("[data-sheet=delivery]")
    expect(delivery).to_contain_text("to Grace Hopper, 10 Downing Street, LONDON")
    expect(delivery.locator(".sheet-eta")).to_have_text(ETA)
    # This one goes elsewhere: a new address, added in the sheet without leaving the room.
    delivery.get_by_role("button", name="Change").click()
    delivery.get_by_label("Deliver to").select_option(label="Add an address…")
    new = delivery.locator(".sheet-new-address")
    new.get_by_label("Full name").fill("Grace Hopper")
    new.get_by_label("Phone").fill("07911 123456")
    new.get_by_label("Street address").fill("221B Baker Street")
    new.get_by_label("Town / city").fill("London")
    new.get_by_label("Postcode / ZIP").fill("nw1 6xe")
    new.get_by_role("button", name="Save address").click()
    expect(delivery.locator(".sheet-ship-to")).to_have_text(
        " · to Grace Hopper, 221B Baker Street, LONDON"
    )
    expect(new).to_be_hidden()
    assert fits_width(buyer, PHONE["width"])
    buyer.screenshot(path=screenshots / "buy-sheet-address-phone.png")
    sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d")).click()
    toast = buyer.locator("[data-region=toast]")
    expect(toast).to_contain_text("Paid!")
    order_id = int(re.findall(r"Order #(\d+)", toast.inner_text())[0])
    creator.get_by_role("button", name="End show").click()

    seller = open_page("seller3@liveshop.demo")
    seller.goto("/seller")
    seller.get_by_role("link", name="To ship").click()
    row = seller.locator(f"#to-ship-{order_id}")
    expect(row).to_contain_text("NW1 6XE")
    row.get_by_role("link", name=f"#{order_id}").click()
    expect(seller.locator("#ship-to")).to_contain_text("221B Baker Street")
    ship = seller.locator("#ship-parcel")
    ship.get_by_label("Carrier", exact=True).select_option("simulated")
    ship.get_by_label("Weight (g)").fill("1200")
    ship.get_by_role("button", name="Book parcel & make label").click()
    expect(seller.locator(".flash-success")).to_contain_text("Parcel booked: Liveshop Express")
    label = seller.get_by_role("link", name="Label & packing slip (PDF)")
    pdf = seller.request.get(str(label.get_attribute("href")))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # The carrier's webhooks arrive within a few seconds (its clock runs fast here).
    buyer.goto(f"/orders/{order_id}")
    for _ in range(60):
        if buyer.locator(".order-head .badge").inner_text() == "Delivered":
            break
        buyer.wait_for_timeout(250)
        buyer.reload()
    expect(buyer.locator(".order-head .badge")).to_have_text("Delivered")
    parcel = buyer.locator(".parcel")
    expect(parcel.locator(".parcel-status")).to_have_text("Delivered")
    expect(parcel.locator(".timeline-event")).to_have_count(6)
    expect(parcel.locator(".timeline")).to_contain_text("Delayed at the hub")
    expect(parcel.locator(".timeline")).to_contain_text("Collected from the seller")
    # how the promise made at payment compared (the carrier's fast clock: early here)
    expect(buyer.locator("#promise")).to_contain_text("We estimated")
    expect(buyer.locator("#ship-to")).to_contain_text("NW1 6XE")
    expect(parcel.get_by_role("link", name=re.compile("Label"))).to_have_count(0)
    assert accessibility_problems(buyer) == []
    assert fits_width(buyer, PHONE["width"])
    steps = buyer.locator(".journey")  # the progress steps fit: no sideways scroll inside
    expect(steps.locator("li.current")).to_contain_text("Delivered")
    assert steps.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    buyer.screenshot(path=screenshots / "tracking-phone.png", full_page=True)

    # A return: asked for by the buyer, approved, sent back, received and refunded.
    returns = buyer.locator("#returns")
    returns.get_by_label("Reason").select_option("does_not_fit")
    returns.get_by_label("Note (optional)").fill("Too big for my desk")
    returns.get_by_role("button", name="Ask to return").click()
    expect(buyer.locator(".flash-success")).to_contain_text("Return requested")
    expect(buyer.locator(".return-status")).to_have_text("Requested")
    assert fits_width(buyer, PHONE["width"])

    seller.goto(f"/seller/orders/{order_id}")
    seller.locator("#returns").get_by_role("button", name="Approve return").click()
    expect(seller.locator(".flash-success")).to_contain_text("Return approved")
    buyer.reload()
    expect(buyer.locator(".return-status")).to_have_text("Approved: send it back")
    back_label = buyer.get_by_role("link", name="Return label (PDF)")
    pdf = buyer.request.get(str(back_label.get_attribute("href")))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    # The return parcel is tracked back to the shop by the carrier's webhooks.
    back = buyer.locator(".return-parcel-status")
    for _ in range(60):
        if back.inner_text() == "Delivered":
            break
        buyer.wait_for_timeout(250)
        buyer.reload()
    expect(back).to_have_text("Delivered")
    expect(buyer.locator(".return-timeline")).to_contain_text("Handed in by the buyer")
    expect(buyer.locator(".return-timeline")).to_contain_text("Delivered to the shop")
    seller.reload()
    expect(seller.locator(".return-parcel-status")).to_have_text("Delivered")
    seller.locator("#returns").get_by_role("button", name="Mark received & refund").click()
    expect(seller.locator(".flash-success")).to_contain_text("buyer refunded")
    buyer.reload()
    expect(buyer.locator(".return-status")).to_have_text("Received and refunded")
    expect(buyer.locator(".order-head .badge")).to_have_text("Refunded")
    assert accessibility_problems(buyer) == []

    # Every step was told in the buyer's inbox (e-mailed too where SMTP is configured).
    buyer.goto("/account")
    buyer.get_by_role("link", name="Inbox").click()
    subjects = buyer.locator(".notice-subject")
    expect(subjects.first).to_have_text(f"Refunded: order #{order_id}")
    for words in ("has shipped", "is delayed", "is out for delivery", "was delivered"):
        expect(buyer.locator(".notices")).to_contain_text(f"Order #{order_id} {words}")
    expect(buyer.locator(".notices")).to_contain_text(f"Return approved: order #{order_id}")
    expect(buyer.locator(".notices")).to_contain_text(
        f"Your return reached the shop: order #{order_id}"
    )
    assert fits_width(buyer, PHONE["width"])
