"""What a checkout is asked to buy (``CheckoutLine``) and through whom (``Attribution``).

Plain values shared by ``checkout`` (which places the order), ``pricing`` (which prices it)
and ``quote``; kept apart so that neither of the first two has to import the other's
module for them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    sku_id: int
    quantity: int
    # Set by trusted callers only (a live room's flash deal): the deal price and the units
    # already held for this buyer out of the deal's allocation.
    unit_price_minor: int | None = None
    reservation_id: int | None = None
    deal_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    """Through whom the order was bought; commissions are computed from it."""

    live_session_id: int | None = None
    creator_id: int | None = None
    creator_commission_bp: int = 0  # every line's rate unless ``creator_rates`` names it
    # Product id -> rate (bp) in force at purchase (``orders.attribution`` resolves it).
    # Derived from the attribution, so it is not part of the request's fingerprint.
    creator_rates: dict[int, int] | None = None

    def rate_for(self, product_id: int) -> int:
        if self.creator_id is None:
            return 0
        if self.creator_rates is not None and product_id in self.creator_rates:
            return self.creator_rates[product_id]
        return self.creator_commission_bp
