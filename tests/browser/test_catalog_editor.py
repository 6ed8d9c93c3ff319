"""A seller builds a product in the catalog editor — two variants with GB and Indonesian
prices, an image, stock — publishes it, and a creator finds it in the showcase picker."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import assert_no_sideways_scroll


def _png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (900, 600), (40, 120, 90)).save(out, "PNG")
    return out.getvalue()


def test_seller_creates_a_product_a_creator_can_showcase(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    seller = open_page("seller1@liveshop.demo", viewport=PHONE)
    seller.goto("/seller/products")
    seller.get_by_role("link", name="New product").click()
    seller.get_by_label("Title").fill("Batik tote bag")
    seller.get_by_label("Category").select_option("fashion")
    seller.get_by_label("Description").fill("Hand-stamped cotton tote.")
    seller.get_by_role("button", name="Create draft").click()
    expect(seller.locator(".flash-success")).to_contain_text("Created Batik tote bag as a draft")

    add = seller.locator("form.add-variant")
    for code, colour, gb, idr in (
        ("TOTE-INDIGO", "indigo", "18.00", "250.000"),
        ("TOTE-SOGA", "soga brown", "19.50", "270.000,00"),
    ):
        add.get_by_label("SKU code").fill(code)
        add.get_by_label("Options").fill(f"colour: {colour}")
        add.get_by_label("GB price (GBP)").fill(gb)
        add.get_by_label("ID price (IDR)").fill(idr)
        add.get_by_role("button", name="Add variant").click()
        expect(seller.locator(".flash-success")).to_have_text(f"Added variant {code}.")
    indigo = seller.locator("article.variant", has_text="TOTE-INDIGO")
    expect(indigo.get_by_label("GB price (GBP)")).to_have_value("18.00")
    expect(indigo.get_by_label("ID price (IDR)")).to_have_value("250.000,00")

    seller.get_by_label("Add an image").set_input_files(
        {"name": "tote.png", "mimeType": "image/png", "buffer": _png()}
    )
    seller.get_by_role("button", name="Upload").click()
    expect(seller.locator(".flash-success")).to_have_text("Image added.")
    thumb = seller.locator(".editor-images img").first
    expect(thumb).to_have_attribute("src", re.compile(r"/media/products/.*-400\.webp"))
    thumb.scroll_into_view_if_needed()
    loaded = seller.wait_for_function(
        "(img) => img.complete && img.naturalWidth", arg=thumb.element_handle()
    )
    assert loaded.json_value() == 400

    stock = seller.locator("#stock-" + indigo.get_attribute("id").removeprefix("sku-"))
    stock.get_by_label("Units of TOTE-INDIGO").fill("20")
    stock.get_by_role("button", name="Apply").click()
    expect(seller.locator(".flash-success")).to_contain_text("Received 20 of TOTE-INDIGO")
    expect(seller.locator("#movements")).to_contain_text("TOTE-INDIGO")

    seller.get_by_role("button", name="Publish").click()
    expect(seller.locator(".flash-success")).to_contain_text("Batik tote bag is on sale")
    assert_no_sideways_scroll(seller)
    seller.screenshot(path=screenshots / "seller-editor-phone.png", full_page=True)
    expect(seller.locator("main")).not_to_contain_text("null")

    creator = open_page("creator1@liveshop.demo")
    creator.goto("/studio")
    picker = creator.locator(".picker")
    expect(picker.get_by_label("Batik tote bag")).to_have_count(1)
    img = picker.locator("label.pick", has_text="Batik tote bag").locator("img")
    expect(img).to_have_attribute("src", re.compile(r"/media/products/.*\.webp"))
