"""Follow and go-live notices in real browsers: a viewer on a 390 px phone opens a creator's
scheduled show, follows the creator and asks to be reminded; the creator goes live; the
viewer's inbox says so and links to the room, and the home page shows the followed creator's
show first among those live."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import accessibility_problems, fits_width

PRODUCT = "20,000 mAh USB-C Power Bank 65 W"


def test_a_follower_is_told_when_the_creator_goes_live(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    creator = open_page("creator2@liveshop.demo")
    creator.goto("/studio")
    creator.get_by_label("Title").fill("Late-night gadget hour")
    creator.get_by_label(PRODUCT).check()
    creator.get_by_role("button", name="Schedule show").click()
    expect(creator.locator(".flash-success")).to_contain_text("is scheduled")
    session_id = int(re.findall(r"/studio/sessions/(\d+)", creator.url)[0])

    fan = open_page("buyer14@liveshop.demo", viewport=PHONE)
    fan.goto(f"/live/{session_id}")
    follow = fan.get_by_role("button", name="Follow", exact=True)
    expect(follow).to_have_attribute("aria-pressed", "false")
    follow.click()
    expect(fan.locator(".flash-success")).to_contain_text("Following")
    expect(fan.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    fan.get_by_role("button", name="Remind me").click()
    expect(fan.locator(".flash-success")).to_contain_text("remind you")
    expect(fan.get_by_role("button", name="Reminder set ✓")).to_be_visible()
    assert accessibility_problems(fan) == []
    assert fits_width(fan, PHONE["width"])
    fan.screenshot(path=screenshots / "follow-phone.png")

    creator.get_by_role("button", name="Go live").click()
    expect(creator.locator(".flash-success")).to_contain_text("You are live")

    fan.goto("/inbox")
    notice = fan.locator(".notice-item", has_text="is live: Late-night gadget hour")
    expect(notice).to_have_count(1)  # a follower who also asked to be reminded: told once
    fan.screenshot(path=screenshots / "golive-notice-phone.png")
    notice.get_by_role("link").click()
    expect(fan).to_have_url(re.compile(rf"/live/{session_id}$"))
    expect(fan.locator("#room")).to_have_attribute("data-status", "live")

    fan.goto("/")
    first_live = fan.locator(".rail").first.locator(".live-card").first
    expect(first_live).to_have_attribute("href", f"/live/{session_id}")
