"""Money you can audit, acting as each person: an admin runs payouts and a creator reads their
statement and downloads its CSV (the same lines as the page); the studio's "Your earnings
this show" moves after a purchase without a reload; a buyer adds a seller's coupon to an order
already placed, on its pay page, and pays the lower total — on a phone."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from tests.browser.conftest import PHONE, Demo
from tests.browser.support import accessibility_problems, assert_no_sideways_scroll


def _call(demo: Demo, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        demo.base_url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def _token(demo: Demo, email: str) -> dict[str, str]:
    got = _call(demo, "/api/v1/auth/login", {"email": email, "password": demo.password}, {})
    return {"authorization": f"Bearer {got['token']}"}


def test_a_creator_reads_a_statement_and_downloads_its_csv(
    open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    # A sale in creator1's show earns them commission (the demo's shops pay it).
    auth = _token(demo, "buyer20@liveshop.demo")
    order = _call(
        demo,
        "/api/v1/checkout",
        {
            "market": "GB",
            "lines": [{"sku_id": demo.sku_ids["BB-TLB-BERRY"], "quantity": 1}],
            "attribution": {"live_session_id": demo.live_session_id},
        },
        {**auth, "Idempotency-Key": "browser-money-statement-1"},
    )
    _call(demo, f"/api/v1/orders/{order['id']}/pay", {"card_number": CARD_SUCCEEDS}, auth)

    admin = open_page("admin@liveshop.demo")
    admin.goto("/admin/payouts")
    admin.get_by_label("Pay what is due").uncheck()
    admin.get_by_role("button", name="Run").click()
    results = admin.locator("#run-results")
    expect(results).to_be_visible()
    expect(results.locator("tbody tr").first).to_be_visible()

    creator = open_page("creator1@liveshop.demo", viewport=PHONE)
    creator.goto("/account")
    creator.locator("#statements-link").click()
    expect(creator.get_by_role("heading", name="Payout statements")).to_be_visible()
    creator.locator("#statements tbody a").first.click()
    expect(creator.get_by_role("heading", name=re.compile(r"^Statement no\. 1"))).to_be_visible()
    rows = creator.locator("#statement-lines tbody tr")
    expect(rows.first).to_be_visible()
    shown = [
        (r.get_attribute("data-reference"), int(r.get_attribute("data-amount-minor") or "0"))
        for r in rows.all()
    ]
    assert all(ref and ref.startswith("order:") for ref, _ in shown)
    expect(creator.locator("main")).not_to_contain_text("null")
    assert accessibility_problems(creator) == []
    assert_no_sideways_scroll(creator)
    creator.screenshot(path=screenshots / "statement-phone.png", full_page=True)

    with creator.expect_download() as got:
        creator.get_by_role("link", name="Download CSV").click()
    path = got.value.path()
    lines = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert lines[0][:3] == ["date", "reference", "kind"]
    assert [(r[1], int(r[5])) for r in lines[1:] if r[1]] == shown
    payout = creator.locator("[data-total=payout]").inner_text()
    assert any(r[2:4] == ["total", "payout"] for r in lines) and payout

    creator.goto("/ledger")
    expect(creator.locator("#ledger-entries tbody tr").first).to_be_visible()
    expect(creator.locator("#held")).to_be_visible()
    assert_no_sideways_scroll(creator)


def test_the_studio_earnings_move_after_a_purchase_without_a_reload(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    creator = open_page("creator1@liveshop.demo", viewport=PHONE)
    creator.goto(f"/studio/sessions/{demo.live_session_id}")
    expect(creator.locator("[data-dash=viewers]")).not_to_have_text("–", timeout=15_000)
    box = creator.locator("#my-earnings")
    expect(box).to_have_attribute("data-updated-at", re.compile(r"\d+"), timeout=15_000)
    projected = box.locator("[data-earnings=projected]")
    pending = box.locator("[data-earnings=commission_pending]")
    before, pending_before = projected.inner_text(), pending.inner_text()
    per_hour = box.locator("[data-earnings=per_hour]").inner_text()
    assert per_hour.startswith("£") or per_hour == "after 30 min live", per_hour

    auth = _token(demo, "buyer18@liveshop.demo")
    sku = demo.sku_ids["BB-TLB-BERRY"]
    order = _call(
        demo,
        "/api/v1/checkout",
        {
            "market": "GB",
            "lines": [{"sku_id": sku, "quantity": 1}],
            "attribution": {"live_session_id": demo.live_session_id},
        },
        {**auth, "Idempotency-Key": "browser-money-earnings-1"},
    )
    _call(demo, f"/api/v1/orders/{order['id']}/pay", {"card_number": CARD_SUCCEEDS}, auth)

    expect(pending).not_to_have_text(pending_before, timeout=15_000)
    expect(projected).not_to_have_text(before, timeout=15_000)
    expect(box).not_to_contain_text("null")
    assert_no_sideways_scroll(creator)


def test_a_buyer_adds_a_coupon_on_the_pay_page_and_pays_less(
    open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    seller = open_page("seller1@liveshop.demo")
    seller.goto("/seller/coupons")
    form = seller.locator("#new-coupon")
    form.get_by_label("Code").fill("later15")
    form.get_by_label("Percent or amount").fill("15")
    form.get_by_role("button", name="Create coupon").click()
    expect(seller.locator(".flash-success")).to_contain_text("LATER15 is live")

    auth = _token(demo, "buyer19@liveshop.demo")
    order = _call(
        demo,
        "/api/v1/checkout",
        {"market": "GB", "lines": [{"sku_id": demo.sku_ids["BB-TLB-BERRY"], "quantity": 2}]},
        {**auth, "Idempotency-Key": "browser-money-coupon-1"},
    )
    buyer = open_page("buyer19@liveshop.demo", viewport=PHONE)
    buyer.goto(f"/orders/{order['id']}/pay")
    total = buyer.locator(".totals .grand .price")
    was = total.inner_text()
    buyer.get_by_label("Coupon code").fill("later15")
    buyer.get_by_role("button", name="Check").click()
    quote = buyer.locator(".coupon-quote")
    expect(quote).to_contain_text("With LATER15:")
    quoted = quote.inner_text()
    expect(total).to_have_text(was)  # nothing kept yet
    assert_no_sideways_scroll(buyer)
    buyer.get_by_role("button", name="Apply coupon").click()
    expect(buyer.locator(".flash-success")).to_have_text("Coupon LATER15 applied.")
    expect(buyer.locator(".coupon-row")).to_contain_text("Coupon LATER15")
    now = total.inner_text()
    assert now != was and f"total {now}" in quoted  # what the quote said
    assert accessibility_problems(buyer) == []
    buyer.screenshot(path=screenshots / "pay-page-coupon-phone.png", full_page=True)

    expect(buyer.locator("#pay-button")).to_have_text(f"Pay {now}")
    buyer.locator("#pay-button").click()
    expect(buyer.locator(".flash-success")).to_contain_text("Paid")
