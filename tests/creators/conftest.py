"""The creators' tests share their set-up with the affiliates' and promotions'
(``tests.shopfront``); its names stay importable from here."""

from __future__ import annotations

from tests.shopfront import (
    MakeShopfront,
    Shopfront,
    add_contract,
    buy,
    buy_in_live,
    deliver,
    end_session,
    make_agency,
    make_shopfront,
    new_campaign,
    new_user,
    one_sku_shop,
    open_plan,
    order_financials,
    owed,
    product_of,
    start_session,
)

__all__ = [
    "MakeShopfront",
    "Shopfront",
    "add_contract",
    "buy",
    "buy_in_live",
    "deliver",
    "end_session",
    "make_agency",
    "make_shopfront",
    "new_campaign",
    "new_user",
    "one_sku_shop",
    "open_plan",
    "order_financials",
    "owed",
    "product_of",
    "start_session",
]
