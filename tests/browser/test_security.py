"""Forms are CSRF-checked; pages check the role; anonymous visitors are sent to log in."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo


def test_form_post_without_the_csrf_token_is_refused(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    buyer = open_page("buyer3@liveshop.demo")
    sku = str(demo.sku_ids["BB-VCM-50"])
    form = {"sku_id": sku, "market": "GB", "quantity": "1"}

    missing = buyer.request.post("/cart/add", form=form, max_redirects=0)
    assert missing.status == 403
    assert "This form has expired" in missing.text()
    forged = buyer.request.post("/cart/add", form={**form, "csrf_token": "0" * 40}, max_redirects=0)
    assert forged.status == 403
    buyer.goto("/cart")
    expect(buyer.get_by_text("Your cart is empty")).to_be_visible()

    # The same request with this browser's token goes through.
    buyer.goto("/")
    token = buyer.locator("input[name=csrf_token]").first.input_value()
    ok = buyer.request.post("/cart/add", form={**form, "csrf_token": token}, max_redirects=0)
    assert ok.status == 303
    buyer.goto("/cart")
    expect(buyer.get_by_role("link", name="Vitamin C Glow Moisturiser 50 ml")).to_be_visible()


def test_login_form_needs_the_browser_token(open_page: Callable[..., Page]) -> None:
    page = open_page()
    resp = page.request.post(
        "/login",
        form={"email": "buyer1@liveshop.demo", "password": "liveshop-demo"},
        max_redirects=0,
    )
    assert resp.status == 403
    assert "liveshop_session" not in resp.headers.get("set-cookie", "")


def test_anonymous_visitor_is_sent_to_log_in_and_back(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    page = open_page()
    page.goto("/seller/products")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fseller%2Fproducts$"))
    page.get_by_label("E-mail").fill("seller1@liveshop.demo")
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/seller/products$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bloom & Botanic")


def test_wrong_role_gets_a_friendly_403(open_page: Callable[..., Page]) -> None:
    buyer = open_page("buyer4@liveshop.demo")
    response = buyer.request.get("/admin")
    assert response.status == 403
    assert "open this page" in response.text()
    assert "this needs one of the roles: admin" in response.text()
