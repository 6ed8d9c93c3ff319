"""What the pages show about live sessions, read through ``liveshop.live.service``.

Kept in one module so the live domain's evolving service API touches one file here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.catalog import products as catalog_products
from liveshop.catalog import service as catalog
from liveshop.catalog.models import Product, Shop
from liveshop.catalog.search import ProductQuery, search_products
from liveshop.core import i18n
from liveshop.core.errors import NotFound
from liveshop.core.money import format_minor
from liveshop.live import service as live
from liveshop.live.catalog_view import ProductSummary
from liveshop.live.deals import service as deals
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.markets.models import Market
from liveshop.markets.service import display_price

# Enough for a studio page; a creator with more sessions sees the most recent ones.
STUDIO_SCAN = 200
SHOP_SCAN = 100  # shops offered in the showcase picker
PICKER_MAX = 100  # products per shop in the picker


@dataclass(frozen=True, slots=True)
class SessionCard:
    session: LiveSession
    creator_name: str
    thumb_url: str | None = None  # the pinned (else first showcased) product's picture


async def _names(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for uid in dict.fromkeys(user_ids):
        try:
            names[uid] = (await accounts.get_user(session, uid)).display_name
        except NotFound:
            names[uid] = "A creator"
    return names


async def cards(
    session: AsyncSession, *, status: SessionStatus, market_code: str, limit: int = 12
) -> list[SessionCard]:
    rows, _ = await live.list_sessions(session, status=status, market_code=market_code, limit=limit)
    ordered = list(rows)
    if status is SessionStatus.SCHEDULED:  # soonest first
        ordered.sort(key=lambda s: s.planned_start)
    names = await _names(session, [s.creator_id for s in ordered])
    return [SessionCard(s, names[s.creator_id], await _thumb(session, s)) for s in ordered]


async def _thumb(session: AsyncSession, live_session: LiveSession) -> str | None:
    product_id = live_session.pinned_product_id
    if product_id is None:
        showcased = await live.showcase_ids(session, live_session.id)
        product_id = showcased[0] if showcased else None
    if product_id is None:
        return None
    try:
        product = await catalog_products.get_product(session, product_id)
    except NotFound:
        return None
    return product.images[0] if product.images else None


async def creator_sessions(session: AsyncSession, creator_id: int | None) -> list[LiveSession]:
    """A creator's sessions, newest first (every session when ``creator_id`` is None)."""
    rows, _ = await live.list_sessions(session, limit=STUDIO_SCAN)
    return [s for s in rows if creator_id is None or s.creator_id == creator_id]


# The running flash deal as the room shows it (``to_event``: the fields of ``deal_started``).
RoomDeal = deals.DealView


@dataclass(frozen=True, slots=True)
class Room:
    session: LiveSession
    creator_name: str
    pinned: ProductSummary | None
    showcase: list[ProductSummary]
    deal: RoomDeal | None = None

    @property
    def deal_product(self) -> ProductSummary | None:
        if self.deal is None:
            return None
        return next((p for p in self.showcase if p.product_id == self.deal.deal.product_id), None)


async def room(session: AsyncSession, session_id: int) -> Room:
    found = await live.get_session(session, session_id)
    names = await _names(session, [found.creator_id])
    pinned = await live.pinned_product(session, found)
    showcase = await live.showcase(session, found)
    deal = await deals.active_deal(session, found.id)
    return Room(found, names[found.creator_id], pinned, showcase, deal)


def money_format(market: Market) -> dict[str, Any]:
    """What the room's script needs to format money exactly like the server: the viewer's
    locale for ``Intl.NumberFormat`` (digits, grouping) and babel's currency sign around them
    (``Rp``/``RM``/``₫`` where they stand in this locale: Intl and CLDR-in-babel disagree on
    the space in ``Rp 150.000,00``, so the sign is babel's)."""
    locale = i18n.display_locale(market.locale, market.code)
    sample = format_minor(0, market.currency, locale)
    digits = [i for i, c in enumerate(sample) if c.isdigit()]
    prefix, suffix = (sample[: digits[0]], sample[digits[-1] + 1 :]) if digits else ("", "")
    return {
        "locale": locale.replace("_", "-"),
        "currency": market.currency,
        "exponent": market.currency_exponent,
        "prefix": prefix,
        "suffix": suffix,
    }


def page_json(data: dict[str, Any]) -> Markup:
    """JSON for a ``<script type="application/json">`` island: HTML-safe like Jinja's
    ``tojson``, but keeping key order (a SKU's attributes read "M · Black", not sorted)."""
    return htmlsafe_json_dumps(data, sort_keys=False)


def room_data(room: Room, market: Market, user: dict[str, Any] | None) -> dict[str, Any]:
    """The state the room's script starts from, until the socket's snapshot arrives.

    The snapshot does not carry a deal started before this node opened the room, so the
    page's deal (read from the database now) stays the starting point for it.
    """
    s = room.session
    return {
        "session_id": s.id,
        "status": s.status,
        "ws_path": f"/ws/live/{s.id}",
        "video_api": f"/api/v1/video/{s.id}",
        "timeline_api": f"/api/v1/video/{s.id}/timeline",  # the shoppable replay's chips
        "deal_api": f"/api/v1/live/sessions/{s.id}/deal",
        "buy_api": f"/api/v1/live/sessions/{s.id}/buy",
        # While live, a product without a deal is claimed first (held in a batch, sold out
        # answered at once), then the claim is paid.
        "claim_api": f"/api/v1/live/sessions/{s.id}/claim" if s.status == "live" else None,
        "quote_api": f"/api/v1/live/sessions/{s.id}/quote",  # what a buy would charge
        "login_url": f"/login?next=/live/{s.id}&market={s.market_code}",
        "money": money_format(market),
        "user": user,
        "pinned": room.pinned.to_event() if room.pinned is not None else None,
        "deal": room.deal.to_event() if room.deal is not None else None,
        "showcase": [p.to_event() for p in room.showcase],
        "deal_display": (
            display_price(market, room.deal.deal.price_minor) if room.deal is not None else None
        ),
    }


@dataclass(frozen=True, slots=True)
class ShopProducts:
    shop: Shop
    products: Sequence[Product]


async def creator_catalog(session: AsyncSession) -> list[ShopProducts]:
    """Published products of the shops that let creators sell them (the showcase picker)."""
    shops, _ = await catalog.list_shops(session, limit=SHOP_SCAN)
    out = []
    for shop in shops:
        if not shop.allow_creators:
            continue
        listing = await search_products(session, ProductQuery(shop_id=shop.id, limit=PICKER_MAX))
        if listing.items:
            out.append(ShopProducts(shop, listing.items))
    return out
