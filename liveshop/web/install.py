"""``install_web(app)``: the security headers (web/headers.py), ``/static``, ``/media``
(uploaded product images, ``Settings.media_dir``) and every page router."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from liveshop.web import (
    pages_account,
    pages_addresses,
    pages_admin,
    pages_affiliates,
    pages_agency,
    pages_analytics,
    pages_auctions,
    pages_buyer,
    pages_catalog,
    pages_chat_filter,
    pages_drops,
    pages_follows,
    pages_giveaways,
    pages_inbox,
    pages_live,
    pages_moderate,
    pages_moderation,
    pages_money,
    pages_promotions,
    pages_returns,
    pages_seller,
    pages_shipping,
    pages_shop,
    pages_studio,
    pages_support,
)
from liveshop.web.headers import SecurityHeaders
from liveshop.web.language import LanguageMiddleware
from liveshop.web.templating import STATIC_DIR

PAGE_MODULES = (
    pages_shop,
    pages_account,
    pages_addresses,
    pages_buyer,
    pages_seller,
    pages_catalog,
    pages_promotions,
    pages_money,
    pages_affiliates,
    pages_agency,
    pages_shipping,
    pages_returns,
    pages_admin,
    pages_analytics,
    pages_live,
    pages_studio,
    pages_auctions,
    pages_moderation,
    pages_moderate,
    pages_chat_filter,
    pages_drops,
    pages_giveaways,
    pages_follows,
    pages_inbox,
    pages_support,
)


def install_web(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders, settings=app.state.settings)
    app.add_middleware(LanguageMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    media = app.state.settings.media_dir
    app.mount("/media", StaticFiles(directory=media, check_dir=False), name="media")
    for module in PAGE_MODULES:
        app.include_router(module.router)
