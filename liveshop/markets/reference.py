"""The markets liveshop ships with. Loaded by the first migration; exponents from ISO 4217.

Tax rates are the standard VAT/GST rates (Nov 2026) in basis points. The US has no
national sales tax and shows prices before tax, so its rate is 0 and prices exclude tax.

Return windows (days after delivery during which a buyer may still send goods back; a
creator's commission stays *pending* until it has passed) and flat shipping fees (per shop
order, in minor units, written the way the market writes prices — VAT included where prices
include it) are defaults an admin can change per market:

- GB 14 days: the Consumer Contracts Regulations 2013 give online buyers 14 days from
  delivery to cancel. DE/FR/IT/ES 14 days: the same right under the EU Consumer Rights
  Directive (2011/83/EU).
- ID, TH, MY, VN 7 days: there is no statutory cooling-off period for online purchases;
  7 days is the common marketplace policy there.
- US 30 days: no federal right of return; 30 days is the common retail policy.
- Shipping: a standard domestic parcel, roughly what the region's marketplaces charge —
  £3.00, Rp 10.000, ฿40, RM 4.90, 20.000 ₫, €4.90, $5.99 (before sales tax).
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


# code: (return window in days, flat shipping fee per shop order in minor units)
_RULES: dict[str, tuple[int, int]] = {
    "GB": (14, 300),  # £3.00 (VAT included)
    "ID": (7, 1_000_000),  # Rp 10.000 (IDR has 2 minor digits in ISO 4217)
    "TH": (7, 4_000),  # ฿40.00
    "MY": (7, 490),  # RM 4.90
    "VN": (7, 20_000),  # 20.000 ₫ (no minor unit)
    "DE": (14, 490),  # €4.90
    "FR": (14, 490),
    "IT": (14, 490),
    "ES": (14, 490),
    "US": (30, 599),  # $5.99 before sales tax
}


def market_rules() -> dict[str, tuple[int, int]]:
    """code -> (return_window_days, shipping_fee_minor) as liveshop ships them."""
    return dict(_RULES)


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
            "return_window_days": _RULES[code][0],
            "shipping_fee_minor": _RULES[code][1],
        }
        for code, name, cur, locale, tz, tax_name, rate, inclusive, state in _ROWS
    ]
