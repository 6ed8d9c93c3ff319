"""Affiliate plans, agencies and contracts in a real browser, each as its user: a seller offers
a creator a plan and the creator adds its product to their show; the demo's agency invites a
creator who accepts, and sees its creator's live show with its share; a creator reads their
contract's history and the fee cut announced for later, on a 390 px phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import assert_no_sideways_scroll

PRODUCT = "Selvedge Denim Straight Jeans"  # Northern Thread (seller2), priced in GB
CREATOR = "creator4@liveshop.demo"  # Linh Nguyen: no shows and no agency in the demo


def test_a_sellers_plan_reaches_a_creators_showcase(open_page: Callable[..., Page]) -> None:
    creator = open_page(CREATOR, viewport=PHONE)
    creator.goto("/studio")
    creator.get_by_label("Title").fill("Denim fit check")
    creator.get_by_role("button", name="Schedule show").click()
    expect(creator.locator(".flash-success")).to_contain_text("is scheduled")
    show_url = creator.url

    seller = open_page("seller2@liveshop.demo", viewport=PHONE)
    seller.goto("/seller/affiliate-plans")
    assert_no_sideways_scroll(seller)
    form = seller.locator("#new-plan")
    form.get_by_label("Name").fill("Denim for Linh")
    form.get_by_label("Kind").select_option("targeted")
    form.get_by_label("Creators (targeted plans)").fill(CREATOR)
    form.get_by_label(PRODUCT).fill("15")
    form.get_by_role("button", name="Create plan").click()
    expect(seller.locator(".flash-success")).to_have_text("Plan “Denim for Linh” is on.")
    expect(seller.locator("table").first).to_contain_text("15 %")
    assert_no_sideways_scroll(seller)

    creator.goto("/studio/plans")
    offer = creator.locator(".plan-offer", has_text="Denim for Linh")
    expect(offer).to_contain_text("Offered to you")
    row = offer.locator(".offer", has_text=PRODUCT)
    expect(row).to_contain_text("15 % commission")
    assert_no_sideways_scroll(creator)
    row.get_by_role("button", name="Add to show").click()
    expect(creator.locator(".flash-success")).to_have_text(
        f"{PRODUCT} is in the showcase of “Denim fit check”."
    )
    creator.goto(show_url)
    expect(creator.locator("#showcase")).to_contain_text(PRODUCT)

    seller.reload()
    expect(seller.locator(".plan-use")).to_contain_text("Linh Nguyen")
    expect(seller.locator(".plan-use")).to_contain_text("1 product")


def test_an_agency_invites_a_creator_and_sees_its_share(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    agency = open_page("agency@liveshop.demo", viewport=PHONE)
    agency.goto("/agency")
    expect(agency.get_by_role("heading", name="Starlight Talent")).to_be_visible()
    form = agency.locator("#invitations form").first
    form.get_by_label("Creator's e-mail").fill(CREATOR)
    form.get_by_label("Your share (%)").fill("15")
    form.get_by_role("button", name="Send invitation").click()
    expect(agency.locator(".flash-success")).to_contain_text(f"Invitation sent to {CREATOR}")

    creator = open_page(CREATOR, viewport=PHONE)
    creator.goto("/studio/contract")
    invitation = creator.locator(".invitation", has_text="Starlight Talent invites you")
    expect(invitation).to_contain_text("15 %")
    invitation.get_by_role("button", name="Accept").click()
    expect(creator.locator(".flash-success")).to_contain_text("You joined Starlight Talent")
    expect(creator.locator("#current-terms")).to_contain_text("Starlight Talent takes 15 %")
    assert_no_sideways_scroll(creator)

    agency.reload()
    expect(agency.locator("#invitations tr", has_text="Linh Nguyen")).to_contain_text("accepted")
    mia = agency.locator(".agency-creator", has_text="Mia Thompson")
    show = mia.locator(".agency-show", has_text="Spring drop: organic tees live")
    expect(show).to_contain_text("Live")
    expect(show.locator("td[data-label=GMV]")).to_have_text(re.compile(r"^£[1-9][\d,]*\.\d\d$"))
    share = show.locator("[data-share]")  # the agency's part of the show's money (ledger)
    expect(share).to_have_text(re.compile(r"^£\d+\.\d\d$"))
    expect(agency.locator(".agency-creator", has_text="Linh Nguyen")).to_contain_text(
        "your share 15 %"
    )
    expect(agency.locator("main")).not_to_contain_text("None")
    assert_no_sideways_scroll(agency)
    agency.goto("/agency")
    agency.screenshot(path=screenshots / "agency-dashboard-phone.png", full_page=True)


def test_a_creator_reads_contract_history_and_an_upcoming_change(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    creator = open_page("creator1@liveshop.demo", viewport=PHONE)
    creator.goto("/studio/contract")
    expect(creator.locator("#current-terms")).to_contain_text("Starlight Talent takes 20 %")
    upcoming = creator.locator(".upcoming")
    expect(upcoming).to_contain_text(re.compile(r"Version 3 applies on .* in 1[34] days"))
    expect(upcoming).to_contain_text("Base fee £120.00")
    expect(upcoming).to_contain_text("Until then: Base fee £150.00")
    expect(creator.locator(".contract-version")).to_have_count(3)
    orders = creator.locator(".order-terms")
    expect(orders.first).to_be_visible()
    expect(orders.first.locator("[data-rate-then]")).to_have_text(re.compile(r"^\d+(\.\d+)? %$"))
    assert_no_sideways_scroll(creator)
    creator.screenshot(path=screenshots / "creator-contract-phone.png", full_page=True)
