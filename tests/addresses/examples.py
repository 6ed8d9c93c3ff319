"""A valid and an invalid delivery address for every country liveshop sells in (phone
numbers are real-format mobile numbers of the country)."""

from __future__ import annotations

VALID: dict[str, dict[str, str]] = {
    "GB": {
        "full_name": "Ann Lee",
        "phone": "07911 123456",
        "street_address": "10 Downing Street",
        "city": "London",
        "postal_code": "sw1a 2aa",
    },
    "ID": {
        "full_name": "Dewi Kartika",
        "phone": "0812 3456 7890",
        "street_address": "Jl. Jend. Sudirman No. 1",
        "city": "Jakarta Pusat",
        "country_area": "DKI Jakarta",
        "postal_code": "10220",
    },
    "TH": {
        "full_name": "Somchai Jaidee",
        "phone": "081 234 5678",
        "street_address": "99 Sukhumvit Road",
        "city": "Khlong Toei",
        "country_area": "Bangkok",
        "postal_code": "10110",
    },
    "MY": {
        "full_name": "Aisyah Rahman",
        "phone": "012-345 6789",
        "street_address": "1 Jalan Ampang",
        "city": "Kuala Lumpur",
        "country_area": "Kuala Lumpur",
        "postal_code": "50450",
    },
    "VN": {
        "full_name": "Linh Nguyen",
        "phone": "0912 345 678",
        "street_address": "12 Hàng Bạc",
        "city": "Hoàn Kiếm",
        "country_area": "Hà Nội",
    },
    "DE": {
        "full_name": "Max Muster",
        "phone": "01512 3456789",
        "street_address": "Unter den Linden 1",
        "city": "Berlin",
        "postal_code": "10117",
    },
    "FR": {
        "full_name": "Marie Curie",
        "phone": "06 12 34 56 78",
        "street_address": "1 Rue de Rivoli",
        "city": "Paris",
        "postal_code": "75001",
    },
    "IT": {
        "full_name": "Giulia Rossi",
        "phone": "312 345 6789",
        "street_address": "Via del Corso 1",
        "city": "Roma",
        "country_area": "RM",
        "postal_code": "00186",
    },
    "ES": {
        "full_name": "Lucía García",
        "phone": "612 34 56 78",
        "street_address": "Calle Mayor 1",
        "city": "Madrid",
        "country_area": "Madrid",
        "postal_code": "28013",
    },
    "US": {
        "full_name": "John Smith",
        "phone": "(650) 253-0000",
        "street_address": "1600 Amphitheatre Pkwy",
        "city": "Mountain View",
        "country_area": "CA",
        "postal_code": "94043",
    },
}

# country -> (what is changed, the field the 422 must name)
INVALID: dict[str, tuple[dict[str, str], str]] = {
    "GB": ({"postal_code": "XX"}, "postal_code"),
    "ID": ({"country_area": "Narnia"}, "country_area"),
    "TH": ({"postal_code": "1011"}, "postal_code"),
    "MY": ({"postal_code": ""}, "postal_code"),
    "VN": ({"city": ""}, "city"),
    "DE": ({"postal_code": "1011"}, "postal_code"),
    "FR": ({"city": ""}, "city"),
    "IT": ({"country_area": ""}, "country_area"),
    "ES": ({"postal_code": "ABCDE"}, "postal_code"),
    "US": ({"postal_code": "10001"}, "postal_code"),  # a New York ZIP in California
}


def address(country: str, **changes: str) -> dict[str, str]:
    return {"country_code": country, **VALID[country], **changes}
