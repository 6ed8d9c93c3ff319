"""Pure helpers of the web package."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveshop.core.errors import Unprocessable
from liveshop.web.charts import Bar, bar_chart
from liveshop.web.money_input import example_amount, parse_money
from liveshop.web.pages_admin import parse_percent, percent
from liveshop.web.security import local_path
from liveshop.web.templating import variant_label


@pytest.mark.parametrize(
    ("text", "bp"), [("5", 500), ("12.5", 1250), (" 7.25 % ", 725), ("0", 0), ("100", 10000)]
)
def test_percent_parses_to_basis_points(text: str, bp: int) -> None:
    assert parse_percent(text) == bp


@pytest.mark.parametrize("text", ["", "abc", "-1", "100.01", "1.234", "NaN", "Infinity"])
def test_bad_percentages_are_refused(text: str) -> None:
    with pytest.raises(Unprocessable):
        parse_percent(text)


@given(st.integers(min_value=0, max_value=10000))
def test_percent_round_trips(bp: int) -> None:
    assert parse_percent(percent(bp)) == bp


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/orders/3", "/orders/3"),
        ("/p/1?market=VN", "/p/1?market=VN"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_local_path_keeps_redirects_on_site(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


def test_bar_chart_is_labelled_and_scaled() -> None:
    svg = bar_chart(
        [Bar("Mon", 0), Bar("Tue", 3), Bar("Wed", 7)], title="Orders <per> day", chart_id="c"
    )
    assert svg.count("<rect") == 3
    assert '<title id="c-t">Orders &lt;per&gt; day</title>' in svg
    assert "total 10, highest 7" in svg
    assert ">10</text>" in svg  # the axis top is the next round number


def test_variant_labels() -> None:
    assert variant_label({"size": "M", "colour": "Black"}) == "M · Black"
    assert variant_label({}) == "Standard"
    assert variant_label(None) == "Standard"


@pytest.mark.parametrize(
    ("text", "exponent", "locale", "minor"),
    [
        ("19.99", 2, "en_GB", 1999),
        ("19", 2, "en_GB", 1900),
        (" 1,234.50 ", 2, "en_GB", 123450),
        ("95.000", 2, "id_ID", 9500000),  # Rp95.000 (IDR has two minor digits)
        ("1.290.000,50", 2, "id_ID", 129000050),
        ("7,5", 2, "id_ID", 750),
        ("329.000", 0, "vi_VN", 329000),  # 329.000 ₫
        ("329000", 0, "vi_VN", 329000),
    ],
)
def test_money_typed_the_way_the_market_writes_it(
    text: str, exponent: int, locale: str, minor: int
) -> None:
    assert parse_money(text, exponent, locale) == minor


@pytest.mark.parametrize(
    ("text", "exponent", "locale"),
    [("12.999", 2, "en_GB"), ("7,5", 2, "en_GB"), ("19.99", 2, "id_ID"), ("12,5", 0, "vi_VN"),
     ("abc", 2, "en_GB"), ("", 2, "en_GB"), ("0", 2, "en_GB"), ("0.00", 2, "en_GB"),
     ("-5", 2, "en_GB"), ("1e5", 2, "en_GB"), ("NaN", 2, "en_GB"), ("£5", 2, "en_GB"),
     ("1.2.3,4,5", 2, "id_ID")],
)  # fmt: skip
def test_money_that_is_not_a_price_here_is_refused(text: str, exponent: int, locale: str) -> None:
    with pytest.raises(Unprocessable):
        parse_money(text, exponent, locale)


@given(
    st.integers(min_value=1, max_value=10**14),
    st.sampled_from([(2, "en_GB"), (2, "id_ID"), (0, "vi_VN"), (3, "en_GB")]),
)
def test_money_round_trips_through_the_form(minor: int, market: tuple[int, str]) -> None:
    exponent, locale = market
    assert parse_money(example_amount(minor, exponent, locale), exponent, locale) == minor
