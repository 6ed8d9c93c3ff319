"""The pages satisfy their Content-Security-Policy in Chromium: no violation is reported
(``securitypolicyviolation`` events and console messages), across the main pages of every
role, the live room playing HLS through hls.js included."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo
from tests.browser.test_live_room import _serve_video, enter, hls_clip  # noqa: F401

# Recorded from the first script of every document, before the page's own run.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || location.pathname}:${e.lineNumber}`);
});
"""


def _watched(open_page: Callable[..., Page], email: str | None = None) -> tuple[Page, list[str]]:
    page = open_page(email)
    page.add_init_script(RECORD_VIOLATIONS)
    seen: list[str] = []
    page.on(
        "console",
        lambda m: (
            seen.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    return page, seen


def _visit(page: Page, path: str, seen: list[str]) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, (path, response and response.status)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    found = page.evaluate("window.__csp")
    seen.extend(f"{path}: {v}" for v in found)


def test_every_role_s_pages_pass_under_the_csp(open_page: Callable[..., Page], demo: Demo) -> None:
    seen: list[str] = []
    anon, log = _watched(open_page)
    for path in ("/", f"/p/{demo.product_ids['heavyweight-tee']}", "/login", "/signup"):
        _visit(anon, path, seen)
    _visit(anon, "/drops/fairness", seen)

    buyer, buyer_log = _watched(open_page, "buyer18@liveshop.demo")
    buyer.goto(f"/p/{demo.product_ids['heavyweight-tee']}")
    buyer.get_by_role("radio", name=re.compile(r"^L · Oatmeal")).check()
    buyer.get_by_role("button", name="Buy now").click()
    expect(buyer).to_have_url(re.compile(r"/orders/\d+/pay$"))
    _visit(buyer, buyer.url.removeprefix(demo.base_url), seen)  # the pay page
    for path in ("/cart", "/orders", "/account"):
        _visit(buyer, path, seen)

    seller, seller_log = _watched(open_page, "seller1@liveshop.demo")
    for path in ("/seller", "/seller/products", "/seller/orders", "/seller/creator-costs"):
        _visit(seller, path, seen)
    creator, creator_log = _watched(open_page, "creator1@liveshop.demo")
    assert demo.live_session_id is not None
    for path in ("/studio", f"/studio/sessions/{demo.live_session_id}", "/studio/earnings"):
        _visit(creator, path, seen)
    admin, admin_log = _watched(open_page, "admin@liveshop.demo")
    for path in ("/admin", "/admin/users", "/admin/chat-filter", "/admin/audit"):
        _visit(admin, path, seen)

    problems = seen + log + buyer_log + seller_log + creator_log + admin_log
    assert problems == [], "CSP violations:\n" + "\n".join(problems)


def test_the_live_room_plays_hls_under_the_csp(
    open_page: Callable[..., Page],
    demo: Demo,
    hls_clip: Path,  # noqa: F811
) -> None:
    assert demo.live_session_id is not None
    page, log = _watched(open_page, "buyer19@liveshop.demo")
    _serve_video(page, demo.live_session_id, hls_clip)
    enter(page, demo.live_session_id)
    page.wait_for_function("() => document.querySelector('video.room-player').currentTime > 0.5")
    page.get_by_role("button", name="Send a like").click()  # the hearts' styles (CSSOM)
    expect(page.locator(".stock-bar span").first).to_have_attribute("style", re.compile("width"))
    found = page.evaluate("window.__csp")
    assert found == [] and log == [], "CSP violations:\n" + "\n".join(found + log)
