"""The moderation log in a real browser: a creator hides a viewer's comment from the studio's
chat, opens the show's moderation log from the studio, finds the line there (who hid it, as
what, whose comment, its text) and unhides it from the log — and it is back in the viewer's
room. The page passes the accessibility checks and logs no console errors."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo
from tests.browser.support import accessibility_problems, contrast
from tests.browser.test_live_room import AA, enter

TALKER = "buyer12@liveshop.demo"
TALKER_NAME = "Agus Setiawan"


def test_the_creator_hides_a_comment_and_finds_it_in_the_moderation_log(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    talker = open_page(TALKER, viewport=PHONE)
    enter(talker, demo.live_session_id)
    creator = open_page("creator1@liveshop.demo")
    creator.goto(f"/studio/sessions/{demo.live_session_id}")
    expect(creator.locator("#studio")).to_have_attribute("data-connection", "open")

    text = "Follow me for free giveaways at giveaway.example"
    talker.get_by_label("Chat message").fill(text)
    talker.get_by_label("Chat message").press("Enter")
    line = creator.locator(".studio-chat .chat-line", has_text=text)
    line.get_by_role("button", name=f"Hide comment by {TALKER_NAME}").click()
    expect(talker.locator(".chat-line", has_text=text)).to_have_count(0)
    expect(line).to_have_count(0)

    creator.get_by_role("link", name="Moderation log").click()
    expect(creator).to_have_url(re.compile(rf"/studio/moderation\?session={demo.live_session_id}$"))
    row = creator.locator("tr", has_text=text)
    expect(row).to_have_count(1)
    expect(row.locator("td[data-label=Action]")).to_have_text("Hid a comment")
    expect(row.locator("td[data-label=By]")).to_contain_text("Mia Thompson")
    expect(row.locator("td[data-label=By]")).to_contain_text("Creator")
    expect(row.locator("td[data-label=Viewer]")).to_have_text(TALKER_NAME)
    expect(row.locator("td[data-label=Details]")).to_contain_text("Hidden now")
    expect(creator.locator("[data-count=hide] .kpi-value")).not_to_have_text("0")
    expect(creator.locator("svg.chart .chart-bar").first).to_be_attached()
    assert accessibility_problems(creator) == []
    assert contrast(creator, ".mod-action.mod-hide") >= AA

    # Only the hides, then undo from the log: the viewer's room shows the line again.
    creator.get_by_label("Action", exact=True).select_option(label="Hidden comments")
    creator.get_by_role("button", name="Filter").click()
    expect(creator).to_have_url(re.compile(r"action=hide"))
    expect(creator.locator("tbody tr:not([data-action=hide])")).to_have_count(0)
    row.get_by_role("button", name=f"Unhide the comment by {TALKER_NAME}").click()
    expect(creator.locator(".flash-success")).to_contain_text("visible again")
    expect(talker.locator(".chat-line", has_text=text)).to_be_visible()
    expect(row.locator("td[data-label=Details]")).to_contain_text("Visible now")
    expect(row.get_by_role("button")).to_have_count(0)
