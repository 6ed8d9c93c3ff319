"""The studio's live dashboard moves without a reload when a purchase is paid (over the
room's socket), and an admin reads a market's readiness and sets its targets beside the
launch-state control — on a phone."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from tests.browser.conftest import PHONE, Demo
from tests.browser.support import accessibility_problems, assert_no_sideways_scroll, fits_width


def _call(demo: Demo, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        demo.base_url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def test_a_paid_order_moves_the_studio_dashboard_without_a_reload(
    open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    creator = open_page("creator1@liveshop.demo", viewport=PHONE)
    creator.goto(f"/studio/sessions/{demo.live_session_id}")
    expect(creator.locator("[data-dash=viewers]")).not_to_have_text("–", timeout=15_000)
    gmv = creator.locator("[data-dash=gmv]")
    before = gmv.inner_text()
    orders_before = creator.locator("[data-dash=orders]").inner_text()

    token = _call(
        demo,
        "/api/v1/auth/login",
        {"email": "buyer17@liveshop.demo", "password": demo.password},
        {},
    )["token"]
    auth = {"authorization": f"Bearer {token}"}
    sku = next(iter(demo.sku_ids.values()))
    order = _call(
        demo,
        "/api/v1/checkout",
        {
            "market": "GB",
            "lines": [{"sku_id": sku, "quantity": 1}],
            "attribution": {"live_session_id": demo.live_session_id},
        },
        {**auth, "Idempotency-Key": "browser-dashboard-1"},
    )
    _call(demo, f"/api/v1/orders/{order['id']}/pay", {"card_number": CARD_SUCCEEDS}, auth)

    expect(gmv).not_to_have_text(before, timeout=15_000)
    expect(creator.locator("[data-dash=orders]")).to_have_text(
        str(int(orders_before) + 1), timeout=15_000
    )
    expect(creator.locator("[data-dash=top] li").first).to_be_visible()
    assert_no_sideways_scroll(creator, PHONE["width"])
    creator.locator("#live-dashboard").screenshot(path=screenshots / "studio-dashboard-phone.png")


def test_an_admin_reads_readiness_and_sets_targets(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    admin = open_page("admin@liveshop.demo", viewport=PHONE)
    admin.goto("/admin")
    admin.locator("#market-GB").get_by_role("link", name="Readiness").click()
    expect(admin.get_by_role("heading", name="Is United Kingdom ready?")).to_be_visible()
    expect(admin.locator("[data-advice]")).to_have_text("Set targets")
    admin.get_by_label("Buyers a month").fill("40")
    admin.get_by_label("Repeat buyers (%)").fill("20")
    admin.get_by_label("Creators live a week").fill("2")
    admin.get_by_role("button", name="Save targets").click()
    expect(admin.locator(".flash-success")).to_have_text("Targets saved.")
    expect(admin.get_by_label("Buyers a month")).to_have_value("40")
    expect(admin.locator("[data-advice]")).not_to_have_text("Set targets")
    expect(admin.get_by_label("Launch state")).to_be_visible()  # the control beside it
    expect(admin.locator("#weeks tbody tr")).to_have_count(8)
    assert accessibility_problems(admin) == []
    assert fits_width(admin, PHONE["width"])
    admin.screenshot(path=screenshots / "readiness-phone.png", full_page=True)
