"""The live room in a real browser, over the real room socket.

A buyer buys the demo's flash deal in two taps — the sheet shows what the platform's live
discount and free shipping take off, and the Pay button carries the total that is charged —
and watches the stock bar drop; a creator's pin reaches every open viewer within a second; one
viewer's comment reaches another; a deal of one unit sells out and every viewer's buy button
turns into "Sold out". Every page also passes the accessibility checks and ends without
console errors (the ``open_page`` fixture).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from liveshop.core.money import tax_included
from tests.browser.conftest import DESKTOP, PHONE, Demo
from tests.browser.support import accessibility_problems, contrast

AA = 4.5
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
PIN_DEADLINE_MS = 1000  # "every open viewer page shows it within a second"
TEE = "Heavyweight Organic Cotton Tee"
SHIRT = "Relaxed Linen Shirt"


def enter(page: Page, session_id: int | None) -> None:
    """Open the room and wait until its socket is open (the snapshot is being applied)."""
    assert session_id is not None
    page.goto(f"/live/{session_id}")
    expect(page.locator("#room")).to_have_attribute("data-connection", "open")


def api(demo: Demo, path: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
    """A JSON call to the demo server's API (POST with ``body``, else GET)."""
    request = urllib.request.Request(
        demo.base_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def platform_campaigns(demo: Demo) -> tuple[str, list[int]]:
    """A 10 % live discount whose budget pays exactly one £19.00 deal unit (£1.90) and free
    shipping for exactly one order (£3.00): the next in-room buy spends both, so the demo's
    other rooms and orders are priced as before."""
    login = {"email": "admin@liveshop.demo", "password": demo.password}
    token = api(demo, "/api/v1/auth/login", login)["token"]
    ids = []
    for terms in (
        {"kind": "live_discount_bp", "value": 1000, "budget_minor": 190},
        {"kind": "free_shipping", "value": 0, "budget_minor": 300},
    ):
        body = {"market": "GB", "per_order_cap_minor": 300, "name": "Browser test", **terms}
        ids.append(api(demo, "/api/v1/subsidy-campaigns", body, token)["id"])
    return token, ids


def test_a_buyer_buys_the_flash_deal_in_two_taps(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    admin_token, campaign_ids = platform_campaigns(demo)
    buyer = open_page("buyer18@liveshop.demo", viewport=PHONE)
    enter(buyer, demo.live_session_id)
    card = buyer.locator(".live-product", has_text=TEE)
    expect(card.locator(".lp-kicker")).to_contain_text("Flash deal")
    expect(card.locator(".countdown")).to_have_text(re.compile(r"^ends in 1:5\d:\d\d$"))
    expect(card.locator(".price")).to_have_text("£19.00")
    expect(card.locator(".was")).to_have_text("£28.00")
    stock = card.locator(".stock-text")
    expect(stock).to_have_text(re.compile(r"^\d+ of 20 left$"))
    left = int(stock.inner_text().split()[0])
    assert accessibility_problems(buyer) == []
    assert contrast(buyer, ".live-product .price") >= AA
    assert contrast(buyer, ".live-product .buy-btn") >= AA

    card.get_by_role("button", name="Tap to claim").click()  # tap 1: the unit is held
    sheet = buyer.get_by_role("dialog")  # … and the pay sheet opens by itself
    expect(sheet.locator("[data-sheet=kicker]")).to_have_text("Yours — held for you")
    expect(card.locator(".deal-standing")).to_have_text(re.compile(r"^Yours — pay within"))
    expect(sheet.get_by_role("heading", name=TEE)).to_be_visible()
    expect(sheet.get_by_role("radio", name=re.compile(r"^M · Black"))).to_be_checked()
    assert accessibility_problems(buyer) == []
    # The deal's £19.00 less the platform's 10 % live discount, shipping paid by the free-
    # shipping campaign: £17.10 (the button said £22.00, deal price + shipping, before quotes).
    expect(sheet.locator("[data-sheet=shipping]")).to_have_text("Free shipping")
    vat = tax_included(1900, 2000) + tax_included(300, 2000)
    rows = sheet.locator("[data-sheet=breakdown] > div")
    expect(rows).to_have_text(
        [
            "Items£19.00",
            "Platform discount−£1.90",
            "Shipping£3.00",
            "Free shipping (paid by liveshop)−£3.00",
            f"VAT (included)£{vat // 100}.{vat % 100:02d}",
            "Total£17.10",
        ]
    )
    pay = sheet.get_by_role("button", name=re.compile(r"^Pay £17\.10 with test card 4242"))
    with buyer.expect_request(re.compile(r"/api/v1/live/claims/\d+/pay$")) as sent:
        pay.click()  # tap 2 (paying a claim twice gives its one order: no key needed)
    headers = sent.value.headers
    csrf = next(c for c in buyer.context.cookies() if c["name"] == "liveshop_csrf")
    assert headers["x-csrf-token"] == csrf["value"]
    assert json.loads(sent.value.post_data or "{}")["expected_total_minor"] == 1710

    toast = buyer.locator("[data-region=toast]")
    expect(toast).to_contain_text("Paid!")
    expect(toast).to_contain_text("£17.10")  # charged what the button said
    for campaign_id in campaign_ids:  # both budgets are spent: nothing left for other tests
        spent = api(demo, f"/api/v1/subsidy-campaigns/{campaign_id}", token=admin_token)
        assert spent["spent_minor"] == spent["budget_minor"]
    expect(sheet).to_be_hidden()
    expect(stock).to_have_text(f"{left - 1} of 20 left")  # from the room's stock event
    order_id = int(re.findall(r"Order #(\d+)", toast.inner_text())[0])
    toast.get_by_role("link", name="View order").click()
    expect(buyer).to_have_url(re.compile(rf"/orders/{order_id}$"))
    expect(buyer.locator(".order-head .badge")).to_have_text("Paid")
    expect(buyer.get_by_text("M · Black · × 1")).to_be_visible()
    buyer.goto("/orders")
    row = buyer.locator(".order-row", has_text=f"#{order_id}")
    expect(row).to_contain_text(TEE)
    expect(row.locator(".badge")).to_have_text("Paid")


def test_a_pin_reaches_every_open_viewer_within_a_second(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    viewers = [open_page("buyer19@liveshop.demo", viewport=PHONE), open_page()]
    for viewer in viewers:
        enter(viewer, demo.live_session_id)
        expect(viewer.locator(".live-product").first).to_contain_text(TEE)
    expect(viewers[1].get_by_role("link", name="Log in to buy").first).to_have_attribute(
        "href", f"/login?next=/live/{demo.live_session_id}&market=GB"
    )
    creator = open_page("creator1@liveshop.demo")
    creator.goto(f"/studio/sessions/{demo.live_session_id}")
    expect(creator.locator("#studio")).to_have_attribute("data-connection", "open")
    assert accessibility_problems(creator) == []

    creator.get_by_role("button", name=f"Pin {SHIRT}").click()
    for viewer in viewers:
        pinned = viewer.locator(".live-product").first
        expect(pinned).to_contain_text(SHIRT, timeout=PIN_DEADLINE_MS)
        expect(pinned.locator(".lp-kicker")).to_have_text("Pinned by the host")
        expect(pinned.locator(".price")).to_have_text("£55.00")
        # The deal on the tee stays on screen as a card of its own.
        expect(viewer.locator(".live-product.has-deal")).to_contain_text(TEE)
    expect(creator.locator(".flash-success")).to_contain_text(f"Pinned {SHIRT}")
    expect(creator.locator(".pin-row.is-pinned")).to_contain_text(SHIRT)

    creator.get_by_role("button", name=f"Pin {TEE}").click()  # back as the demo had it
    for viewer in viewers:
        expect(viewer.locator(".live-product")).to_have_count(1, timeout=PIN_DEADLINE_MS)
        expect(viewer.locator(".live-product.has-deal")).to_contain_text(TEE)


def test_the_room_reconnects_by_itself_and_catches_up(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    """The connection drops; while it is down the host pins a product; the page reconnects
    (backing off), resumes after the last seq it had, and shows the pin."""
    viewer = open_page("buyer8@liveshop.demo", viewport=PHONE)
    urls: list[str] = []
    link: dict[str, object] = {"refuse": False}

    def through(ws: WebSocketRoute) -> None:  # a proxy we can cut, between page and server
        urls.append(ws.url)
        if link["refuse"]:
            ws.close(code=1013, reason="network down")
            return
        link["server"], link["page"] = ws.connect_to_server(), ws

    viewer.route_web_socket(re.compile(r"/ws/live/\d+"), through)
    enter(viewer, demo.live_session_id)
    expect(viewer.locator(".live-product").first).to_contain_text(TEE)
    creator = open_page("creator1@liveshop.demo")
    creator.goto(f"/studio/sessions/{demo.live_session_id}")

    link["refuse"] = True
    server, page_side = link["server"], link["page"]
    assert isinstance(server, WebSocketRoute) and isinstance(page_side, WebSocketRoute)
    server.close()
    page_side.close(code=4000, reason="network down")
    pill = viewer.locator("[data-region=reconnecting]")
    expect(pill).to_be_visible()
    expect(pill).to_have_text("Reconnecting…")
    creator.get_by_role("button", name=f"Pin {SHIRT}").click()
    expect(creator.locator(".flash-success")).to_contain_text(f"Pinned {SHIRT}")

    link["refuse"] = False
    expect(viewer.locator(".live-product").first).to_contain_text(SHIRT, timeout=20_000)
    expect(pill).to_be_hidden()
    assert "since=" not in urls[0]
    resumed = [u for u in urls[1:] if "since=" in u]
    assert resumed and all(int(u.rsplit("since=", 1)[1]) > 0 for u in resumed)

    creator.get_by_role("button", name=f"Pin {TEE}").click()
    expect(viewer.locator(".live-product.has-deal")).to_contain_text(TEE)
    expect(viewer.locator(".live-product")).to_have_count(1)


def test_a_viewers_comment_reaches_the_others(
    open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    first = open_page("buyer20@liveshop.demo", viewport=PHONE)
    second = open_page("buyer19@liveshop.demo")
    anonymous = open_page(viewport=PHONE)
    for page in (first, second, anonymous):
        enter(page, demo.live_session_id)
    expect(anonymous.get_by_role("link", name="Log in to chat")).to_be_visible()
    expect(anonymous.get_by_label("Chat message")).to_have_count(0)

    said = "Does the tee shrink in the wash?"
    second.get_by_label("Chat message").fill(said)
    second.get_by_label("Chat message").press("Enter")
    for page in (first, anonymous):
        line = page.locator(".chat-line", has_text=said)
        expect(line).to_contain_text("Arjun Mehta")
    expect(second.locator(".chat-line.is-mine", has_text=said)).to_be_visible()
    expect(second.get_by_label("Chat message")).to_have_value("")

    creator = open_page("creator1@liveshop.demo")
    creator.goto(f"/studio/sessions/{demo.live_session_id}")
    expect(creator.locator(".studio-chat .chat-line", has_text=said)).to_be_visible()
    creator.get_by_label("Message to the room").fill("Pre-shrunk, so it keeps its size!")
    creator.get_by_label("Message to the room").press("Enter")
    host_line = first.locator(".chat-line.is-host", has_text="Pre-shrunk")
    expect(host_line).to_contain_text("Mia Thompson")
    expect(host_line.locator(".chat-host")).to_have_text("Host")
    first.get_by_label("Chat message").fill("Ordered the black one!")
    first.get_by_label("Chat message").press("Enter")
    expect(second.locator(".chat-line", has_text="Ordered the black one")).to_be_visible()

    # Likes: the room's total reaches the others (aggregated about once a second).
    likes = second.locator("[data-region=likes]")
    before = int(likes.inner_text())
    for _ in range(3):
        first.get_by_role("button", name="Send a like").click()
    expect(likes).to_have_text(str(before + 3))

    expect(creator.locator("[data-counter=viewers]")).to_have_text("4")
    creator.screenshot(path=screenshots / "studio-desktop.png", full_page=True)


def test_a_sold_out_deal_disables_every_buy_button(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    creator = open_page("creator4@liveshop.demo")
    creator.goto("/studio")
    creator.get_by_label("Title").fill("One speaker, one minute")
    creator.get_by_label("Pocket Bluetooth Speaker, waterproof").check()
    creator.get_by_label("Braided USB-C Cable 2 m, 2-pack").check()
    assert accessibility_problems(creator) == []
    creator.get_by_role("button", name="Schedule show").click()
    expect(creator.locator(".flash-success")).to_contain_text("is scheduled")
    session_id = int(re.findall(r"/studio/sessions/(\d+)", creator.url)[0])
    creator.get_by_role("button", name="Go live").click()
    expect(creator.locator(".flash-success")).to_contain_text("You are live")
    option = creator.get_by_label("Product and option")
    option.select_option(value=str(demo.sku_ids["VB-POCKET-TEAL"]))
    expect(option.locator("option:checked")).to_contain_text(
        "Pocket Bluetooth Speaker, waterproof — Teal — £39.00"
    )
    creator.get_by_label("Deal price (GBP)").fill("25")
    creator.get_by_label("Units").fill("1")
    creator.get_by_role("button", name="Start flash deal").click()
    expect(creator.locator(".flash-success")).to_contain_text("Flash deal on: 1 at £25.00")
    assert accessibility_problems(creator) == []

    expect(creator.locator("#studio")).to_have_attribute("data-connection", "open")
    buyer, other = (open_page(f"buyer{n}@liveshop.demo", viewport=PHONE) for n in (16, 17))
    for page in (buyer, other):
        enter(page, session_id)
        expect(page.locator(".live-product.has-deal .stock-text")).to_have_text("1 of 1 left")
    buyer.locator(".live-product.has-deal").get_by_role("button", name="Tap to claim").click()
    sheet = buyer.get_by_role("dialog")
    expect(sheet.get_by_role("radio", name=re.compile(r"^Teal"))).to_be_checked()
    sheet.get_by_role("button", name=re.compile(r"^Pay £28\.00")).click()  # £25 + shipping
    expect(buyer.locator("[data-region=toast]")).to_contain_text("Paid!")

    for page in (other, buyer):
        deal = page.locator(".live-product.has-deal")
        expect(deal.locator(".stock-text")).to_have_text("SOLD OUT")
        expect(deal.get_by_role("button", name="Sold out")).to_be_disabled()
    expect(creator.locator("[data-deal-stock]")).to_have_text("SOLD OUT")
    expect(creator.locator("[data-counter=orders]")).to_have_text("1")  # live, from the room
    expect(creator.locator("[data-counter=gmv]")).to_have_text("£25.00")

    creator.get_by_role("button", name="End show").click()
    expect(creator.locator(".flash-info")).to_contain_text("The show has ended")
    expect(other.locator("[data-region=ended]")).to_be_visible()


def test_the_room_on_desktop_and_the_studio_pass_the_checks(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    page = open_page("buyer7@liveshop.demo", viewport=DESKTOP)
    enter(page, demo.live_session_id)
    expect(page.locator(".side-showcase .is-pinned")).to_contain_text(TEE)
    assert accessibility_problems(page) == []
    assert contrast(page, ".live-product .buy-btn") >= AA
    assert contrast(page, ".side-list .price") >= AA
    studio = open_page("creator1@liveshop.demo", viewport=PHONE)
    studio.goto("/studio")
    expect(studio.locator("tbody tr")).to_have_count(1)
    assert accessibility_problems(studio) == []


@pytest.fixture(scope="module")
def hls_clip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Three seconds of ffmpeg's test pattern as HLS (what the demo's encoder would send)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    out = tmp_path_factory.mktemp("hls")
    pattern = "testsrc2=size=360x640:rate=25"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", pattern, "-t", "3",
         "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", "25",
         "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
         "-hls_segment_filename", str(out / "seg%03d.ts"), str(out / "index.m3u8")],
        check=True,
        timeout=60,
    )  # fmt: skip
    yield out


def _serve_video(page: Page, session_id: int, clip: Path) -> None:
    """The video API says the stream is receiving; its HLS files come from ``clip``."""
    playlist = f"/video/{session_id}/index.m3u8"

    def api(route: Route) -> None:
        body = {
            "session_id": session_id,
            "session_status": "live",
            "state": "receiving",
            "playlist_url": playlist,
            "playlist_ready": True,  # the media server has written the first segment
            "replay_url": None,
            "poster_url": f"/video/{session_id}/poster.jpg",
            "duration_ms": 0,
        }
        route.fulfill(json=body)

    def files(route: Route) -> None:
        name = route.request.url.rsplit("/", 1)[1]
        route.fulfill(path=clip / name)

    page.route(f"**/api/v1/video/{session_id}", api)
    page.route(re.compile(rf"/video/{session_id}/(index\.m3u8|seg\d+\.ts)$"), files)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_room_plays_the_stream_with_hls_js(
    device: str, open_page: Callable[..., Page], demo: Demo, hls_clip: Path, screenshots: Path
) -> None:
    assert demo.live_session_id is not None
    # A line said before this viewer comes in (this test's own: it passes alone too).
    said = f"Is there a size guide? ({device})"
    earlier = open_page("buyer11@liveshop.demo", viewport=PHONE)
    enter(earlier, demo.live_session_id)
    earlier.get_by_label("Chat message").fill(said)
    earlier.get_by_label("Chat message").press("Enter")
    expect(earlier.locator(".chat-line.is-mine", has_text=said)).to_be_visible()
    page = open_page("buyer20@liveshop.demo", viewport=PHONE if device == "phone" else DESKTOP)
    _serve_video(page, demo.live_session_id, hls_clip)
    enter(page, demo.live_session_id)
    player = page.locator("video.room-player")
    expect(player).to_be_visible()
    expect(page.locator("[data-region=video-placeholder]")).to_be_hidden()
    page.wait_for_function("() => document.querySelector('video.room-player').currentTime > 0.5")
    expect(page.locator(".chat-line", has_text=said)).to_be_visible()  # from the snapshot
    expect(page.get_by_role("button", name="Tap for sound")).to_be_visible()
    for _ in range(3):
        page.get_by_role("button", name="Send a like").click()  # hearts in the picture
    page.screenshot(path=screenshots / f"room-{device}.png")


def test_without_video_the_room_says_it_is_starting_soon(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    page = open_page(viewport=PHONE)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    enter(page, demo.live_session_id)
    expect(page.locator("[data-region=video-placeholder]")).to_contain_text("Video starting soon")
    expect(page.locator("video.room-player")).to_be_hidden()
    assert missing == []  # no playlist is asked for before there is one


def test_the_creator_hides_a_comment_and_mutes_its_author_from_the_studio(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    viewer = open_page("buyer15@liveshop.demo", viewport=PHONE)
    talker = open_page("buyer14@liveshop.demo")  # Tran Van Duc
    for page in (viewer, talker):
        enter(page, demo.live_session_id)
    creator = open_page("creator1@liveshop.demo")
    creator.goto(f"/studio/sessions/{demo.live_session_id}")
    expect(creator.locator("#studio")).to_have_attribute("data-connection", "open")

    def say(text: str) -> None:
        talker.get_by_label("Chat message").fill(text)
        talker.get_by_label("Chat message").press("Enter")

    spam = "Cheap followers at spam.example"
    say(spam)
    expect(viewer.locator(".chat-line", has_text=spam)).to_be_visible()
    line = creator.locator(".studio-chat .chat-line", has_text=spam)
    line.get_by_role("button", name="Hide comment by Tran Van Duc").click()
    for page in (viewer, talker, creator):  # gone from every open chat
        expect(page.locator(".chat-line", has_text=spam)).to_have_count(0)

    say("Still selling followers")
    line = creator.locator(".studio-chat .chat-line", has_text="Still selling followers")
    line.get_by_role("button", name="Mute Tran Van Duc").click()
    dialog = creator.get_by_role("dialog")
    expect(dialog.get_by_label("Also hide their comments in this show")).to_be_checked()
    dialog.get_by_label("Mute for").select_option(label="10 minutes")
    dialog.get_by_label("Reason (optional)").fill("spam")
    assert accessibility_problems(creator) == []
    dialog.get_by_role("button", name="Mute", exact=True).click()
    muted = creator.locator("[data-region=mutes] .muted-row", has_text="Tran Van Duc")
    expect(muted).to_contain_text("spam")
    expect(viewer.locator(".chat-line", has_text="Still selling")).to_have_count(0)

    say("Am I muted?")
    expect(talker.locator("[data-region=chat-note]")).to_contain_text("You're muted")
    creator.get_by_role("button", name="Unmute Tran Van Duc").click()
    expect(muted).to_have_count(0)
    say("Sorry, no more links")
    expect(viewer.locator(".chat-line", has_text="Sorry, no more links")).to_be_visible()
    # The refused line reached nobody (it would have arrived before the later one).
    for page in (viewer, creator):
        expect(page.locator(".chat-line", has_text="Am I muted?")).to_have_count(0)
