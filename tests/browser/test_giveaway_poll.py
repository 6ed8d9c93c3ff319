"""A giveaway and a poll in real browsers: the creator opens a giveaway from the studio; two
viewers on 390 px phones see the seed's fingerprint and enter; the creator draws; both
viewers see the winner and the revealed seed, the winner finds their free order, and the
giveaway's record re-runs the draw in the browser. Then the creator asks a poll: a viewer
votes and sees the results, the host sees them live; closing shows everyone the final count.
A viewer's question, upvoted by the other, is answered now in front of everyone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import accessibility_problems, assert_no_sideways_scroll, go_live

PRODUCT = "10-inch Ring Light with Tripod"  # £29.00 in GB


def test_a_giveaway_draw_and_a_poll_from_both_sides(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    creator = open_page("creator2@liveshop.demo")
    session_id = go_live(creator, "Ring light giveaway", PRODUCT)
    viewers = [open_page(f"buyer{n}@liveshop.demo", viewport=PHONE) for n in (3, 4)]
    for page in viewers:
        page.goto(f"/live/{session_id}")
        expect(page.locator("#room")).to_have_attribute("data-connection", "open")

    creator.goto(f"/studio/sessions/{session_id}#giveaway")
    expect(creator.locator("#studio")).to_have_attribute("data-connection", "open")
    form = creator.locator("[data-engage=giveaway-form]")
    form.get_by_label("Entries open for").select_option("300")
    form.get_by_role("button", name="Open giveaway").click()
    host_card = creator.locator("#giveaway .giveaway-card")
    expect(host_card).to_contain_text("Entries: 0")
    fingerprint = re.compile(r"Seed fingerprint \(SHA-256\): [0-9a-f]{64}")
    expect(host_card).to_contain_text(fingerprint)

    for page in viewers:
        card = page.locator(".giveaway-card")
        expect(card).to_contain_text(fingerprint)
        card.get_by_role("button", name="Enter the giveaway").click()
        expect(card.locator(".giveaway-mine")).to_contain_text("You're in")
    assert_no_sideways_scroll(viewers[0])
    assert accessibility_problems(viewers[0]) == []
    expect(host_card).to_contain_text("Entries: 2")

    host_card.get_by_role("button", name="Draw now").click()
    expect(host_card).to_contain_text(re.compile(r"Winner: .+"))
    expect(host_card).to_contain_text(re.compile(r"Seed: [0-9a-f]{64}"))
    for page in viewers:
        expect(page.locator(".giveaway-card .giveaway-result")).to_be_visible()
        expect(page.locator(".giveaway-card")).to_contain_text(re.compile(r"Seed: [0-9a-f]{64}"))
    (winner,) = [p for p in viewers if p.locator(".giveaway-result.is-me").count()]
    expect(winner.locator(".giveaway-result.is-me")).to_contain_text("You won!")
    winner.screenshot(path=screenshots / "giveaway-phone.png")

    # The record re-runs the draw in the visitor's browser.
    record = open_page(viewport=PHONE)
    href = winner.locator(".giveaway-card .engage-links a").get_attribute("href")
    assert href is not None
    record.goto(href)
    expect(record.locator("[data-giveaway=verdict]")).to_contain_text("✓ Checked in your browser")
    assert_no_sideways_scroll(record)
    record.get_by_role("link", name="How the draw works").click()
    expect(record.locator("h1")).to_have_text("How giveaways are drawn")
    assert_no_sideways_scroll(record)

    order_link = winner.get_by_role("link", name="View order")
    expect(order_link).to_be_visible()
    order_link.click()
    expect(winner).to_have_url(re.compile(r"/orders/\d+$"))
    expect(winner.locator("body")).to_contain_text("Paid")
    expect(winner.locator("body")).to_contain_text(PRODUCT)

    # A poll: the host asks; a viewer votes and sees results; the host sees them live.
    creator.goto(f"/studio/sessions/{session_id}#poll")
    expect(creator.locator("#studio")).to_have_attribute("data-connection", "open")
    poll_form = creator.locator("[data-engage=poll-form]")
    poll_form.get_by_label("Question").fill("Which colour next?")
    poll_form.get_by_label("Option 1").fill("Warm white")
    poll_form.get_by_label("Option 2").fill("Daylight")
    poll_form.get_by_role("button", name="Ask the room").click()
    host_poll = creator.locator("#poll .poll-card")
    expect(host_poll).to_contain_text("Votes: 0")
    voter, other = viewers
    voter.goto(f"/live/{session_id}")
    voter_poll = voter.locator(".poll-card")
    expect(voter_poll).to_contain_text("Which colour next?")
    expect(voter_poll.locator(".poll-pct")).to_have_count(0)  # no results before voting
    voter_poll.get_by_role("button", name="Daylight").click()
    expect(voter_poll.locator(".poll-result.is-mine")).to_contain_text("100% · 1")
    expect(host_poll).to_contain_text("Votes: 1")
    expect(host_poll.locator(".poll-result").nth(1)).to_contain_text("100% · 1")

    # A question, upvoted by another viewer, is answered now in front of everyone.
    other.goto(f"/live/{session_id}")
    voter.get_by_role("button", name=re.compile("Questions for the host")).click()
    voter.get_by_label("Your question").fill("Does it fold flat?")
    voter.get_by_role("button", name="Ask", exact=True).click()
    expect(voter.locator(".question-list")).to_contain_text("Does it fold flat?")
    voter.get_by_role("button", name="Close").click()
    other.get_by_role("button", name=re.compile("Questions for the host")).click()
    question = other.locator(".question", has_text="Does it fold flat?")
    question.get_by_role("button", name="▲ Upvote").click()
    expect(question.locator(".question-votes")).to_have_text("▲ 1")
    other.get_by_role("button", name="Close").click()
    host_q = creator.locator("#questions .question", has_text="Does it fold flat?")
    expect(host_q.locator(".question-votes")).to_have_text("▲ 1")
    host_q.get_by_role("button", name="Answer now").click()
    for page in (voter, other):
        expect(page.locator(".answering-banner")).to_contain_text("Does it fold flat?")

    host_poll.get_by_role("button", name="Close poll").click()
    expect(other.locator(".poll-card")).to_contain_text("The poll is closed.")
    expect(other.locator(".poll-card .poll-result").nth(1)).to_contain_text("100% · 1")
    assert_no_sideways_scroll(other)
    other.screenshot(path=screenshots / "poll-phone.png")
