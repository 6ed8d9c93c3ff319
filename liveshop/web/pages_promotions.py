"""Promotion pages: a shop's coupons (create, list, usage, deactivate) in the seller center,
and the platform's subsidy campaigns (budget, spent, remaining, per market, pause/resume)
for admins.

The same services and access checks as the API (``promotions.coupons`` /
``promotions.campaigns``; ``ensure_shop_staff`` for a coupon's shop, ``AdminPrincipal`` for
campaigns). Amounts are typed the way the market writes money (``web/money_input.py``);
a percentage is typed as "10" or "12.5" and stored in basis points.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Form, Path, Query, Request, Response

from liveshop.accounts import service as accounts
from liveshop.accounts.deps import AdminPrincipal, SellerPrincipal, SessionDep
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id, Line
from liveshop.markets.models import Market
from liveshop.markets.service import display_price, list_markets, require_market
from liveshop.promotions import campaigns, coupons
from liveshop.promotions.models import CampaignKind, Coupon, CouponKind, SubsidyCampaign
from liveshop.web.flash import redirect
from liveshop.web.money_input import parse_money
from liveshop.web.pages_seller import ShopTab, seller_tab
from liveshop.web.routing import page_router
from liveshop.web.templating import render, shop_markets

router = page_router(tags=["pages"])

PERCENT = re.compile(r"^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$")
Market2 = Annotated[Line, Form(min_length=2, max_length=2)]
Amount = Annotated[Line, Form(min_length=1, max_length=30)]
DateText = Annotated[Line, Form(max_length=10)]


def parse_percent(text: str) -> int:
    """ "10", "12.5" or "7,25 %" → basis points (1 … 10 000)."""
    m = PERCENT.match(text)
    if m is None:
        raise Unprocessable(
            _("%(strip)s is not a percentage", strip=repr(text.strip()[:20])), code="bad-rate"
        )
    bp = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if not 0 < bp <= 10_000:
        raise Unprocessable(_("a percentage is more than 0 and at most 100"), code="bad-rate")
    return bp


def _end_of_day(text: str, market: Market) -> datetime | None:
    """A yyyy-mm-dd date: valid until the end of that day in the market's time zone."""
    if not text.strip():
        return None
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise Unprocessable(_("give the last day as a date"), code="bad-validity") from exc
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(market.timezone))


def coupon_value(coupon: Coupon, market: Market) -> str:
    if coupon.kind == CouponKind.PERCENT_BP:
        whole, part = divmod(int(coupon.value), 100)
        return f"{whole}.{part:02d} % off".replace(".00 ", " ")
    return f"{money_of(market, int(coupon.value))} off"


def money_of(market: Market, amount: int) -> str:
    return display_price(market, amount)


# -- seller: coupons -----------------------------------------------------------------------


@router.get("/seller/coupons")
async def coupon_list(
    request: Request, session: SessionDep, principal: SellerPrincipal, tab: ShopTab
) -> Response:
    if tab is None:
        return redirect("/seller")
    rows = await coupons.list_coupons(session, tab.shop.id)
    markets = {m.code: m for m in await list_markets(session)}
    now = utcnow()
    context = tab.context(
        "coupons",
        _("Coupons · %(name)s", name=tab.shop.name),
        coupons=[
            (c, coupons.coupon_state(c, now), coupon_value(c, markets[c.market_code])) for c in rows
        ],
        sell_markets=await shop_markets(session),
        home_market=tab.shop.home_market,
    )
    return await render(request, session, principal, "seller/coupons.html", context)


@router.post("/seller/coupons")
async def coupon_create(
    session: SessionDep,
    principal: SellerPrincipal,
    shop_id: Annotated[Id, Form()],
    market: Market2,
    kind: Annotated[CouponKind, Form()],
    amount: Amount,
    code: Annotated[Line, Form(max_length=40)] = "",
    max_uses: Annotated[Line, Form(max_length=9)] = "",
    per_buyer_limit: Annotated[FormCount, Form(ge=1, le=1000)] = 1,
    valid_until: DateText = "",
) -> Response:
    shop = await ensure_shop_staff(session, principal, shop_id)
    found = await require_market(session, market)
    value = (
        parse_percent(amount)
        if kind is CouponKind.PERCENT_BP
        else parse_money(amount, found.currency_exponent, found.locale)
    )
    clean = code.strip().upper() or None
    if clean is not None and not re.fullmatch(r"[A-Z0-9-]{3,40}", clean):
        raise Unprocessable(
            _(
                "a code has 3-40 letters, digits or dashes (or leave it empty: applied to every order)"  # noqa: E501
            ),
            code="bad-code",
        )
    limit = max_uses.strip()
    if limit and not limit.isdigit():
        raise Unprocessable(
            _("uses in total is a whole number (or empty: no limit)"), code="bad-amount"
        )
    coupon = await coupons.create_coupon(
        session,
        shop_id=shop.id,
        market_code=found.code,
        kind=kind,
        value=value,
        code=clean,
        max_uses=int(limit) if limit else None,
        per_buyer_limit=per_buyer_limit,
        valid_until=_end_of_day(valid_until, found),
    )
    name = coupon.code or "The automatic discount"
    return redirect(
        f"/seller/coupons?shop={shop.id}",
        flash=("success", _("%(name)s is live in %(name2)s.", name=name, name2=found.name)),
    )


@router.get("/seller/coupons/{coupon_id}")
async def coupon_usage(
    coupon_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    coupon = await coupons.coupon_for_staff(session, principal, coupon_id)
    tab = await seller_tab(session, principal, coupon.shop_id)
    assert tab is not None
    market = await require_market(session, coupon.market_code)
    uses = await coupons.redemptions(session, coupon.id)
    names = {}
    for uid in {u.buyer_id for u in uses}:
        try:
            names[uid] = (await accounts.get_user(session, uid)).display_name
        except NotFound:
            names[uid] = f"Buyer {uid}"
    context = tab.context(
        "coupons",
        _("Coupon %(value)s", value=coupon.code or "(automatic)"),
        coupon=coupon,
        state=coupons.coupon_state(coupon, utcnow()),
        value=coupon_value(coupon, market),
        uses=uses,
        given=sum(u.amount_minor for u in uses),
        names=names,
        coupon_market=market,
    )
    return await render(request, session, principal, "seller/coupon.html", context)


@router.post("/seller/coupons/{coupon_id}/deactivate")
async def coupon_deactivate(
    coupon_id: Id, session: SessionDep, principal: SellerPrincipal
) -> Response:
    coupon = await coupons.coupon_for_staff(session, principal, coupon_id)
    await coupons.deactivate(session, coupon, actor_id=principal.user_id)
    name = coupon.code or "The automatic discount"
    return redirect(
        f"/seller/coupons?shop={coupon.shop_id}",
        flash=(
            "info",
            _("%(name)s is off: no new order gets it; orders that used it keep it.", name=name),
        ),
    )


# -- admin: campaigns ----------------------------------------------------------------------

KIND_LABELS = {
    CampaignKind.LIVE_DISCOUNT_BP: "Live discount (% off in live shows)",
    CampaignKind.FIXED_DISCOUNT_MINOR: "Fixed discount per order",
    CampaignKind.FREE_SHIPPING: "Free shipping",
    CampaignKind.CREATOR_GMV_BONUS: "Creator bonus at a show's GMV",
}


def campaign_state(c: SubsidyCampaign, at: datetime) -> str:
    if c.paused_at is not None:
        return "paused"
    if c.valid_until is not None and c.valid_until <= at:
        return "ended"
    if c.valid_from > at:
        return "scheduled"
    if c.spent_minor >= c.budget_minor:
        return "spent"
    return "running"


@router.get("/admin/campaigns")
async def campaign_list(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    market: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
) -> Response:
    markets = {m.code: m for m in await list_markets(session)}
    chosen = market.upper() if market else None
    rows = await campaigns.list_campaigns(session, market_code=chosen)
    now = utcnow()
    context = {
        "title": _("Campaigns"),
        "section": "campaigns",
        "rows": [(c, campaign_state(c, now), markets[c.market_code]) for c in rows],
        "markets": list(markets.values()),
        "chosen": chosen,
        "kinds": KIND_LABELS,
        "money": money_of,
    }
    return await render(request, session, principal, "admin/campaigns.html", context)


@router.post("/admin/campaigns")
async def campaign_create(
    session: SessionDep,
    principal: AdminPrincipal,
    market: Market2,
    kind: Annotated[CampaignKind, Form()],
    value: Amount,
    budget: Amount,
    per_order_cap: Amount,
    name: Annotated[Line, Form(max_length=120)] = "",
    gmv_threshold: Annotated[Line, Form(max_length=30)] = "",
    valid_until: DateText = "",
) -> Response:
    found = await require_market(session, market)

    def amount(text: str) -> int:
        return parse_money(text, found.currency_exponent, found.locale)

    rate_kind = kind is CampaignKind.LIVE_DISCOUNT_BP
    await campaigns.create_campaign(
        session,
        market_code=found.code,
        currency=found.currency,
        kind=kind,
        name=name.strip(),
        value=parse_percent(value) if rate_kind else amount(value),
        budget_minor=amount(budget),
        per_order_cap_minor=amount(per_order_cap),
        gmv_threshold_minor=amount(gmv_threshold) if gmv_threshold.strip() else 0,
        valid_until=_end_of_day(valid_until, found),
    )
    return redirect(
        f"/admin/campaigns?market={found.code}",
        flash=(
            "success",
            _(
                "Campaign %(value)s runs in %(name)s.",
                value=name.strip() or KIND_LABELS[kind],
                name=found.name,
            ),
        ),
    )


@router.post("/admin/campaigns/{campaign_id}/{action}")
async def campaign_pause(
    campaign_id: Id,
    action: Annotated[Line, Path(pattern=r"^(pause|resume)$")],
    session: SessionDep,
    principal: AdminPrincipal,
) -> Response:
    paused = action == "pause"
    c = await campaigns.set_paused(session, campaign_id, paused=paused, actor_id=principal.user_id)
    text = _("paused: no new order takes from its budget") if paused else _("running again")
    return redirect(
        f"/admin/campaigns?market={c.market_code}",
        flash=(
            "info",
            _(
                "%(value)s is %(text)s.",
                value=c.name or KIND_LABELS[CampaignKind(c.kind)],
                text=text,
            ),
        ),
    )
