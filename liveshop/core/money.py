"""Money is an integer count of the currency's minor unit (ISO 4217) — never a float.

Exponents come from the ISO 4217 table (``iso4217`` package); babel is used only to
*display* an amount, because CLDR's digits differ from ISO 4217 for some currencies.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import parse_pattern
from iso4217 import Currency


class UnknownCurrency(ValueError):
    pass


def currency_exponent(code: str) -> int:
    """Minor-unit exponent from ISO 4217 (GBP 2, VND 0, JPY 0, KWD 3)."""
    try:
        cur = Currency(code.upper())
    except ValueError as exc:
        raise UnknownCurrency(f"unknown ISO 4217 currency {code!r}") from exc
    exp = cur.exponent
    return 0 if exp is None else int(exp)


def is_known_currency(code: str) -> bool:
    try:
        currency_exponent(code)
    except UnknownCurrency:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("amount_minor must be an int (minor units)")

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-currency_exponent(self.currency))

    def format(self, locale: str) -> str:
        return format_minor(self.amount_minor, self.currency, locale)


def format_minor(amount_minor: int, currency: str, locale: str) -> str:
    """Display an amount for people; the digits shown follow ISO 4217, not CLDR."""
    exp = currency_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exp)
    loc = Locale.parse(locale)
    pattern = copy(parse_pattern(loc.currency_formats["standard"]))
    pattern.frac_prec = (exp, exp)
    return pattern.apply(value, loc, currency=currency, currency_digits=False)


def split_rate(amount_minor: int, rate_bp: int) -> int:
    """``amount × rate`` (basis points) rounded half-up to a whole minor unit."""
    if rate_bp < 0:
        raise ValueError("rate must not be negative")
    return (amount_minor * rate_bp + 5000) // 10000


def tax_included(gross_minor: int, rate_bp: int) -> int:
    """Tax contained in a tax-inclusive price: gross × r / (1 + r), rounded half-up."""
    if rate_bp <= 0:
        return 0
    return (gross_minor * rate_bp * 2 + (10000 + rate_bp)) // (2 * (10000 + rate_bp))
