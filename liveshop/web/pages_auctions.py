"""The studio's auction controls: put a lot up (or withdraw it) from the session page.
Creator-only, the session's owner (``pages_studio._own``); the same service as the API, so
``auction_started`` goes out with its commit. The lot's price, leader and timer are shown
live by ``static/js/live/auction.js`` on the studio and room pages alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from liveshop.accounts.deps import CreatorPrincipal, SessionDep
from liveshop.core.errors import NotFound
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id, Line
from liveshop.live import service as live
from liveshop.live.auctions import engine
from liveshop.live.auctions import service as auctions
from liveshop.live.auctions.models import AuctionMode
from liveshop.markets.service import display_price, get_market
from liveshop.web.auction_form import parse_increments
from liveshop.web.flash import redirect
from liveshop.web.money_input import parse_money
from liveshop.web.pages_studio import _back, _hub, _own
from liveshop.web.routing import page_router

router = page_router(prefix="/studio", tags=["pages"])

AUCTION_SECONDS = (10, 15, 20, 30, 45, 60, 120, 300)  # what the form offers


@router.post("/sessions/{session_id}/auctions")
async def start_auction(
    session_id: Id,
    request: Request,
    session: SessionDep,
    principal: CreatorPrincipal,
    sku_id: Annotated[Id, Form()],
    start: Annotated[Line, Form(min_length=1, max_length=30)],
    seconds: Annotated[FormCount, Form(ge=auctions.MIN_DURATION_S, le=auctions.MAX_DURATION_S)],
    quantity: Annotated[FormCount, Form(ge=1, le=auctions.MAX_QUANTITY)] = 1,
    mode: Annotated[AuctionMode, Form()] = AuctionMode.ANTI_SNIPE,
    snipe_seconds: Annotated[FormCount, Form(ge=1, le=auctions.MAX_SNIPE_S)] = 10,
    inc_from: Annotated[list[Line], Form(max_length=engine.MAX_STEPS)] = [],  # noqa: B006
    inc_step: Annotated[list[Line], Form(max_length=engine.MAX_STEPS)] = [],  # noqa: B006
) -> Response:
    """A lot of one SKU of the showcase, held from stock now, starting at ``start``; bids
    rise by the host's step table (rows ``from price → step``; none sent: the default)."""
    found = await _own(session, principal, session_id)
    if sku_id not in {sku.sku_id for p in await live.showcase(session, found) for sku in p.skus}:
        raise NotFound(_("that SKU is not in this show's showcase"), code="sku-not-in-showcase")
    market = await get_market(session, found.market_code)
    lot = await auctions.start_auction(
        session,
        found,
        sku_id=sku_id,
        quantity=quantity,
        start_minor=parse_money(start, market.currency_exponent, market.locale),
        duration_s=seconds,
        mode=mode,
        snipe_s=min(snipe_seconds, seconds),
        increments=parse_increments(inc_from, inc_step, market),
        actor_id=principal.user_id,
        room=_hub(request).publisher.on_commit(session),
    )
    text = _(
        "Auction on: %(title)s, from %(price)s, %(seconds)s s.",
        title=lot.title,
        price=display_price(market, lot.start_minor),
        seconds=lot.duration_seconds,
    )
    return redirect(_back(session_id, "auction"), flash=("success", text))
