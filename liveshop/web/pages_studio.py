"""Creator studio: schedule a show, go live, pin products, run flash deals, end the show.

Creator-only (``CreatorPrincipal``); every action on a session checks it is the caller's
(``live.service.ensure_owner``: another creator gets a 403 page; admins may act). Forms carry
the page CSRF field (the router's ``verify_form_csrf``). Each action calls the same live
services as the API, which queue the same room event on their transaction (``room=``; a
new deal's stock follows its commit), so viewers see a pin or a deal only once the database
has it.

The live counters, the room's chat with its moderation (hide a line, mute a viewer, unmute:
``/api/v1/live/sessions/{id}/comments/…`` and ``…/mutes``, cookie + ``X-CSRF-Token``) and the
stream key (``/api/v1/video/stream-key``, when video is installed) are driven by
``static/js/studio.js``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Form, Request, Response

from liveshop.accounts.deps import CreatorPrincipal, SessionDep
from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.chat import service as chat
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext
from liveshop.core.types import FormCount, Id, Line
from liveshop.creators import earnings
from liveshop.helpdesk import service as helpdesk
from liveshop.live import service as live
from liveshop.live.deals import service as deals
from liveshop.live.deals.models import DealEndReason, DealPolicy
from liveshop.live.deals.router import publish_deal_stock
from liveshop.live.models import TITLE_MAX, LiveSession, SessionStatus
from liveshop.markets.models import Market
from liveshop.markets.service import display_price, ensure_sellable, get_market
from liveshop.realtime.hub import Hub
from liveshop.video import simulcast
from liveshop.web import earnings_view, live_view
from liveshop.web.auction_form import increment_rows
from liveshop.web.flash import redirect
from liveshop.web.money_input import example_amount, parse_money
from liveshop.web.routing import page_router
from liveshop.web.templating import render, shop_markets, viewer_of

router = page_router(prefix="/studio", tags=["pages"])

DEAL_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120)  # what the deal form offers
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # <input type=datetime-local>
ProductId = Annotated[Id, Form()]


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def _own(session: SessionDep, principal: Principal, session_id: Id) -> LiveSession:
    found = await live.get_session(session, session_id)
    live.ensure_owner(principal, found)
    return found


def _back(session_id: Id, anchor: str = "") -> str:
    return f"/studio/sessions/{session_id}" + (f"#{anchor}" if anchor else "")


@router.get("")
async def studio(request: Request, session: SessionDep, principal: CreatorPrincipal) -> Response:
    """The creator's shows and the form to schedule one (an admin who is no creator sees
    everyone's shows)."""
    mine_only = Role.CREATOR in principal.roles or not principal.is_admin
    sessions = await live_view.creator_sessions(session, principal.user_id if mine_only else None)
    markets = await shop_markets(session)
    default_market = markets[0] if markets else None
    start = utcnow() + timedelta(hours=1)
    if default_market is not None:
        start = start.astimezone(ZoneInfo(default_market.timezone))
    context = {
        "title": _("Creator studio"),
        "sessions": sessions,
        "mine_only": mine_only,
        "sell_markets": markets,
        "catalog": await live_view.creator_catalog(session),
        "default_start": start.replace(minute=0, second=0, microsecond=0).strftime(LOCAL_INPUT),
        "title_max": TITLE_MAX,
    }
    return await render(request, session, principal, "live/studio.html", context)


def _planned_start(text: str, timezone: str) -> datetime:
    """A datetime-local value, read in the market's time zone."""
    try:
        local = datetime.strptime(text.strip(), LOCAL_INPUT)
    except ValueError as exc:
        raise Unprocessable(
            _("Give the planned start as a date and time."), code="bad-planned-start"
        ) from exc
    return local.replace(tzinfo=ZoneInfo(timezone))


@router.post("/sessions")
async def schedule(
    session: SessionDep,
    principal: CreatorPrincipal,
    title: Annotated[Line, Form(min_length=1, max_length=TITLE_MAX)],
    market: Annotated[Line, Form(min_length=2, max_length=2)],
    planned_start: Annotated[Line, Form(max_length=20)],
    duration_minutes: Annotated[FormCount, Form(ge=1, le=1440)],
    product_ids: Annotated[list[Id], Form(max_length=live.MAX_SHOWCASE)] = [],  # noqa: B006
) -> Response:
    target = await ensure_sellable(session, market.upper())
    created = await live.create_session(
        session,
        creator_id=principal.user_id,
        title=title,
        market_code=target.code,
        planned_start=_planned_start(planned_start, target.timezone),
        planned_duration_minutes=duration_minutes,
        product_ids=product_ids,
    )
    return redirect(
        _back(created.id), flash=("success", _("“%(title)s” is scheduled.", title=created.title))
    )


@router.get("/earnings")
async def my_earnings(
    request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    """The last 30 days: totals, pending vs payable, per live hour, and per show."""
    page = await earnings_view.creator_page(session, principal.user_id, days=30)
    context = {
        "title": _("Your earnings"),
        "page": page,
        "fmt": page.fmt,
        "hours": earnings_view.hours,
        "fee_label": earnings_view.base_fee_label,
    }
    return await render(request, session, principal, "live/earnings.html", context)


@router.get("/sessions/{session_id}")
async def studio_session(
    session_id: Id, request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    own = await _own(session, principal, session_id)
    mine = await earnings.one_session_earnings(session, own)
    mutes = await chat.active_mutes(session, own.creator_id)
    support_cases = await helpdesk.session_case_count(session, own.id)
    room = await live_view.room(session, session_id)
    await session.commit()  # reading stock may release expired holds
    market = await get_market(session, room.session.market_code)
    viewer = await viewer_of(session, principal)
    assert viewer is not None
    user = {"id": viewer.user_id, "name": viewer.name, "can_buy": False, "host": True}
    data = live_view.room_data(room, market, user)
    data["session_api"] = f"/api/v1/live/sessions/{session_id}"
    data["ws_path"] += "?studio=true"  # the studio's socket is never an audience member
    context = {
        "title": _("Studio · %(title)s", title=room.session.title),
        "room": room,
        "room_data": data,
        "room_json": live_view.page_json(data),
        "gmv": display_price(market, room.session.gmv_minor),
        "deal_minutes": DEAL_MINUTES,
        "price_example": _price_example(room, market),
        "increment_rows": increment_rows(market),
        "mine": mine,
        "per_hour_min": earnings.PER_HOUR_MIN_MINUTES,
        "per_hour_wait": _("after %(n)s min live", n=earnings.PER_HOUR_MIN_MINUTES),
        "fee_label": earnings_view.base_fee_label,
        "mutes": mutes,
        "mute_choices": chat.MUTE_CHOICES,
        "support_cases": support_cases,
        # Viewers on the platforms it is simulcast to shop here: the room's short link.
        "short_link": f"{str(request.base_url).rstrip('/')}/l/{simulcast.short_code(session_id)}",
    }
    return await render(
        request, session, principal, "live/studio_session.html", context, market=market
    )


def _price_example(room: live_view.Room, market: Market) -> str:
    """A deal price as the market writes it: a fifth off the first showcase price."""
    prices = [sku.price_minor for p in room.showcase for sku in p.skus]
    regular = prices[0] if prices else 2500 * 10**market.currency_exponent
    return example_amount(regular * 4 // 5, market.currency_exponent, market.locale)


@router.post("/sessions/{session_id}/start")
async def go_live(
    session_id: Id, request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    found = await _own(session, principal, session_id)
    room = _hub(request).publisher.on_commit(session)
    found = await live.transition(session, found, SessionStatus.LIVE, room=room)
    return redirect(_back(session_id), flash=("success", _("You are live.")))


@router.post("/sessions/{session_id}/end")
async def end_show(
    session_id: Id, request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    """Like the API's end: viewers get ``session_ended``; the audience stats become final."""
    found = await _own(session, principal, session_id)
    hub = _hub(request)
    room = hub.publisher.on_commit(session)
    found = await live.transition(session, found, SessionStatus.ENDED, room=room)
    await hub.save_stats(found.id, session=session)
    return redirect(_back(session_id), flash=("info", _("The show has ended.")))


@router.post("/sessions/{session_id}/cancel")
async def cancel_show(
    session_id: Id, request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    found = await _own(session, principal, session_id)
    room = _hub(request).publisher.on_commit(session)
    found = await live.transition(session, found, SessionStatus.CANCELLED, room=room)
    return redirect("/studio", flash=("info", _("“%(title)s” is cancelled.", title=found.title)))


@router.post("/sessions/{session_id}/pin")
async def pin(
    session_id: Id,
    request: Request,
    session: SessionDep,
    principal: CreatorPrincipal,
    product_id: ProductId,
) -> Response:
    found = await _own(session, principal, session_id)
    room = _hub(request).publisher.on_commit(session)
    product = await live.pin_product(session, found, product_id, room=room)
    return redirect(
        _back(session_id, "showcase"),
        flash=("success", _("Pinned %(title)s.", title=product.title)),
    )


@router.post("/sessions/{session_id}/unpin")
async def unpin(
    session_id: Id, request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    found = await _own(session, principal, session_id)
    room = _hub(request).publisher.on_commit(session)
    await live.unpin_product(session, found, room=room)
    return redirect(_back(session_id, "showcase"), flash=("info", _("Nothing is pinned now.")))


POLICY_NAMES = {
    DealPolicy.HOLD_THEN_PAY: lazy_gettext("hold then pay"),
    DealPolicy.FIRST_PAID_WINS: lazy_gettext("first paid wins"),
    DealPolicy.QUEUE: lazy_gettext("queue"),
    DealPolicy.LOTTERY: lazy_gettext("lottery"),
}


@router.post("/sessions/{session_id}/deals")
async def start_deal(
    session_id: Id,
    request: Request,
    session: SessionDep,
    principal: CreatorPrincipal,
    sku_id: Annotated[Id, Form()],
    price: Annotated[Line, Form(min_length=1, max_length=30)],
    units: Annotated[FormCount, Form(ge=1, le=deals.MAX_UNITS)],
    minutes: Annotated[FormCount, Form(ge=1, le=120)],
    per_buyer_limit: Annotated[str, Form(max_length=6, pattern=r"^[0-9]*$")] = "",
    per_product_limit: Annotated[str, Form(max_length=6, pattern=r"^[0-9]*$")] = "",
    policy: Annotated[DealPolicy, Form()] = DealPolicy.HOLD_THEN_PAY,
    hold_minutes: Annotated[FormCount, Form(ge=1, le=30)] = 5,
) -> Response:
    """A flash deal on one SKU of the showcase, out of real stock; an empty "per buyer" field
    is no limit. The fairness policy and the claims' hold are fixed from now on; a lottery
    takes entries for the first half of the deal's time."""
    found = await _own(session, principal, session_id)
    if sku_id not in {sku.sku_id for p in await live.showcase(session, found) for sku in p.skus}:
        raise NotFound(_("that SKU is not in this show's showcase"), code="sku-not-in-showcase")
    market = await get_market(session, found.market_code)
    publisher = _hub(request).publisher
    view = await deals.start_deal(
        session,
        found,
        sku_id=sku_id,
        price_minor=parse_money(price, market.currency_exponent, market.locale),
        units=units,
        duration=timedelta(minutes=minutes),
        actor_id=principal.user_id,
        per_buyer_limit=int(per_buyer_limit) if per_buyer_limit else None,
        per_product_limit=int(per_product_limit) if per_product_limit else None,
        policy=policy,
        hold=timedelta(minutes=hold_minutes),
        room=publisher.on_commit(session),
    )
    deal = view.deal
    await publish_deal_stock(session, publisher, deal)
    text = _(
        "Flash deal on: %(units)s at %(price)s, %(policy)s.",
        units=deal.units,
        price=display_price(market, deal.price_minor),
        policy=str(POLICY_NAMES[DealPolicy(deal.policy)]),
    )
    if deal.per_buyer_limit is not None:
        text += _(" Limit %(limit)s per buyer.", limit=deal.per_buyer_limit)
    return redirect(_back(session_id, "deal"), flash=("success", text))


@router.post("/sessions/{session_id}/deals/{deal_id}/end")
async def end_deal(
    session_id: Id,
    deal_id: Id,
    request: Request,
    session: SessionDep,
    principal: CreatorPrincipal,
) -> Response:
    found = await _own(session, principal, session_id)
    deal = await deals.get_deal(session, deal_id)
    if deal.session_id != found.id:
        raise NotFound(
            _("flash deal %(deal_id)s does not exist", deal_id=deal_id), code="deal-not-found"
        )
    publisher = _hub(request).publisher
    room = publisher.on_commit(session)  # ``deal_ended`` goes out with the commit
    if await deals.end_deal(session, deal_id, reason=DealEndReason.ENDED_EARLY, room=room):
        await publish_deal_stock(session, publisher, await deals.get_deal(session, deal_id))
    return redirect(_back(session_id, "deal"), flash=("info", _("The flash deal has ended.")))
