"""The markets liveshop ships with. Loaded by the first migration; exponents from ISO 4217.

Tax rates are the standard VAT/GST rates (Nov 2026) in basis points. The US has no
national sales tax and shows prices before tax, so its rate is 0 and prices exclude tax.
"""

from __future__ import annotations

from typing import Any

from liveshop.core.money import currency_exponent

_ROWS: list[tuple[str, str, str, str, str, str, int, bool, str]] = [
    # code, name, currency, locale, timezone, tax name, rate bp, inclusive, launch state
    ("GB", "United Kingdom", "GBP", "en_GB", "Europe/London", "VAT", 2000, True, "live"),
    ("ID", "Indonesia", "IDR", "id_ID", "Asia/Jakarta", "PPN", 1100, True, "live"),
    ("TH", "Thailand", "THB", "th_TH", "Asia/Bangkok", "VAT", 700, True, "pilot"),
    ("MY", "Malaysia", "MYR", "ms_MY", "Asia/Kuala_Lumpur", "SST", 1000, True, "pilot"),
    ("VN", "Vietnam", "VND", "vi_VN", "Asia/Ho_Chi_Minh", "VAT", 1000, True, "live"),
    ("DE", "Germany", "EUR", "de_DE", "Europe/Berlin", "USt", 1900, True, "planned"),
    ("FR", "France", "EUR", "fr_FR", "Europe/Paris", "TVA", 2000, True, "planned"),
    ("IT", "Italy", "EUR", "it_IT", "Europe/Rome", "IVA", 2200, True, "planned"),
    ("ES", "Spain", "EUR", "es_ES", "Europe/Madrid", "IVA", 2100, True, "planned"),
    ("US", "United States", "USD", "en_US", "America/New_York", "Sales tax", 0, False, "planned"),
]


def reference_markets() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": name,
            "currency": cur,
            "currency_exponent": currency_exponent(cur),
            "locale": locale,
            "timezone": tz,
            "tax_name": tax_name,
            "tax_rate_bp": rate,
            "prices_include_tax": inclusive,
            "platform_commission_bp": 500,
            "launch_state": state,
        }
        for code, name, cur, locale, tz, tax_name, rate, inclusive, state in _ROWS
    ]
