"""Discovery (home) and the product page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request, Response

from liveshop.accounts.deps import MaybePrincipal, SessionDep
from liveshop.analytics.wiring import capture_product_view
from liveshop.catalog import products as catalog_products
from liveshop.catalog.models import Category, Sku
from liveshop.catalog.search import ProductQuery, search_products
from liveshop.catalog.service import get_shop
from liveshop.core.clock import utcnow
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id, Line
from liveshop.inventory import service as inventory
from liveshop.live.follows import service as follows
from liveshop.live.models import SessionStatus
from liveshop.logistics.eta import shop_eta
from liveshop.markets.models import SELLABLE_STATES, LaunchState, Market
from liveshop.markets.service import display_price
from liveshop.web import live_view
from liveshop.web.pages_common import new_idempotency_key
from liveshop.web.pages_follows import followed_first
from liveshop.web.routing import page_router
from liveshop.web.templating import current_market, render

router = page_router(tags=["pages"])

PAGE_SIZE = 24
LOW_STOCK = 5


def is_open(market: Market) -> bool:
    return LaunchState(market.launch_state) in SELLABLE_STATES


@router.get("/")
async def home(
    request: Request,
    session: SessionDep,
    principal: MaybePrincipal,
    q: Annotated[Line | None, Query(max_length=100)] = None,
    category: Category | None = None,
    page: Annotated[FormCount, Query(ge=1, le=1000)] = 1,
) -> Response:
    market = await current_market(request, session)
    listing = await search_products(
        session,
        ProductQuery(
            market=market.code,
            q=q,
            category=category,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        ),
    )
    shop_names = {
        sid: (await get_shop(session, sid)).name for sid in {p.shop_id for p in listing.items}
    }
    context = {
        "title": _("Discover"),
        "q": q or "",
        "category": category,
        "categories": list(Category),
        "listing": listing,
        "shop_names": shop_names,
        "page": page,
        "pages": max(1, -(-listing.total // PAGE_SIZE)),
        "market_open": is_open(market),
        # Shows of creators the viewer follows come first.
        "live_now": await followed_first(
            session,
            principal.user_id if principal else None,
            await live_view.cards(session, status=SessionStatus.LIVE, market_code=market.code),
        ),
        "upcoming": await followed_first(
            session,
            principal.user_id if principal else None,
            await live_view.cards(
                session, status=SessionStatus.SCHEDULED, market_code=market.code, limit=8
            ),
        ),
        "replays": await live_view.cards(
            session, status=SessionStatus.ENDED, market_code=market.code, limit=8
        ),
    }
    return await render(request, session, principal, "home.html", context, market=market)


@dataclass(frozen=True, slots=True)
class VariantView:
    sku: Sku
    price_minor: int | None
    price_display: str | None
    available: int

    @property
    def buyable(self) -> bool:
        return self.price_minor is not None and self.available > 0


def _price_in(sku: Sku, market: Market) -> int | None:
    for price in sku.prices:
        if price.market_code == market.code and price.is_available:
            return price.amount_minor
    return None


@router.get("/p/{product_id}")
async def product_page(
    product_id: Id,
    request: Request,
    session: SessionDep,
    principal: MaybePrincipal,
    live: Id | None = None,  # the show it was opened from (a room's product links)
) -> Response:
    market = await current_market(request, session)
    product, staff = await catalog_products.visible_product(session, principal, product_id)
    await capture_product_view(  # analytics: into the node's buffer, no write
        session,
        request.app.state.analytics,
        product_id=product.id,
        shop_id=product.shop_id,
        market_code=market.code,
        live_session_id=live,
        user_id=principal.user_id if principal is not None else None,
    )
    skus = [s for s in product.skus if s.is_active]
    stock = await inventory.stock_summaries(session, [s.id for s in skus])
    await session.commit()  # keeps the lazy release of expired holds
    variants = []
    for sku in skus:
        amount = _price_in(sku, market)
        variants.append(
            VariantView(
                sku=sku,
                price_minor=amount,
                price_display=display_price(market, amount) if amount is not None else None,
                available=stock[sku.id].available,
            )
        )
    priced = [v for v in variants if v.price_minor is not None]
    chosen = next((v for v in priced if v.buyable), priced[0] if priced else None)
    shop_follow = {
        "following": principal is not None
        and await follows.is_following(session, principal.user_id, shop_id=product.shop_id),
        "followers": await follows.followers(session, shop_id=product.shop_id),
    }
    context = {
        "shop_follow": shop_follow,
        "title": product.title,
        "product": product,
        "shop": await get_shop(session, product.shop_id),
        "staff_view": staff,
        "variants": priced,
        "chosen": chosen,
        "market_open": is_open(market),
        "low_stock": LOW_STOCK,
        "idempotency_key": new_idempotency_key(),
        "eta": await shop_eta(session, product.shop_id, market.code, market.timezone, now=utcnow()),
    }
    return await render(request, session, principal, "product.html", context, market=market)
