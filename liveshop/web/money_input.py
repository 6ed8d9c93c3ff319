"""Money typed into a form, the way the market writes it → integer minor units.

"19.99" in GB, "95.000" or "1.290.000,50" in Indonesia, "329.000" in Vietnam: the market's
locale says which separator groups and which one starts the decimals (babel, strict, so
"1,5" in GB is refused rather than guessed). Decimal arithmetic throughout: an amount with
more decimals than the currency has (ISO 4217) is refused, never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal

from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _

SHAPE = re.compile(r"^[0-9][0-9.,]*$")  # no signs, exponents, NaN or currency symbols
MAX_MINOR = 10**15


def _refuse(text: str, example: str) -> Unprocessable:
    return Unprocessable(
        _(
            "%(strip)s is not a price here: type it like %(example)s",
            strip=repr(text.strip()[:40]),
            example=example,
        ),
        code="bad-amount",
    )


def parse_money(text: str, exponent: int, locale: str) -> int:
    """The amount in minor units (> 0). Raises Unprocessable (422 ``bad-amount``)."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    example = example_amount(12_500 * 10**exponent, exponent, locale)
    if not SHAPE.match(raw):
        raise _refuse(text, example)
    try:
        value = parse_decimal(raw, locale=locale, strict=True)
    except NumberFormatError as exc:
        raise _refuse(text, example) from exc
    minor = value.scaleb(exponent)
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise Unprocessable(
            _(
                "%(strip)s has more decimals than the currency has (%(exponent)s)",
                strip=repr(text.strip()[:40]),
                exponent=exponent,
            ),
            code="bad-amount",
        )
    if not 0 < minor < MAX_MINOR:
        raise _refuse(text, example)
    return int(minor)


def example_amount(amount_minor: int, exponent: int, locale: str) -> str:
    """An amount as the market writes it without the currency ("19.99", "1.990.000,00")."""
    digits = "0" * exponent
    pattern = f"#,##0.{digits}" if exponent else "#,##0"
    return format_decimal(Decimal(amount_minor).scaleb(-exponent), pattern, locale=locale)
