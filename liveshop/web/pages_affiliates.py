"""Affiliate plan pages: a shop's plans in the seller center (create, change from now on,
end; who uses each and what they sold), and the plans a creator may sell under in the studio
(open ones and those offered to them), from which they add products to a show's showcase.

The same services and access checks as the API: ``ensure_shop_staff`` for a plan's shop
(``SellerPrincipal``), ``CreatorPrincipal`` and ``live.ensure_owner`` for a show. A rate is
typed as a percentage ("12" or "7.5") and stored in basis points; an empty rate leaves the
product or category out of the plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Request, Response

from liveshop.accounts import service as accounts
from liveshop.accounts.deps import CreatorPrincipal, SellerPrincipal, SessionDep
from liveshop.accounts.models import Role
from liveshop.affiliates import plans
from liveshop.affiliates.invitations import percent
from liveshop.affiliates.models import AffiliatePlan, PlanKind
from liveshop.catalog.models import Product, ProductStatus, Shop
from liveshop.catalog.products import get_product
from liveshop.catalog.search import ProductQuery, search_products
from liveshop.catalog.service import ensure_shop_staff, get_shop
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.money import format_minor
from liveshop.core.types import Id, Line, Text
from liveshop.creators.affiliate_views import plan_usage
from liveshop.live import service as live
from liveshop.markets.models import Market
from liveshop.markets.service import display_price, list_markets, require_market
from liveshop.web.flash import redirect
from liveshop.web.pages_promotions import _end_of_day, parse_percent
from liveshop.web.pages_seller import ShopTab, _names, seller_tab
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])

PLAN_PRODUCTS = 100  # products offered in a plan's form
MAX_TARGETS = 50
Rates = Annotated[list[Annotated[Line, Form(max_length=12)]], Form(max_length=PLAN_PRODUCTS)]
Ids = Annotated[list[Id], Form(max_length=PLAN_PRODUCTS)]
Categories = Annotated[list[Annotated[Line, Form(max_length=40)]], Form(max_length=PLAN_PRODUCTS)]


def plan_state(plan: AffiliatePlan) -> str:
    now = utcnow()
    if plan.valid_until is not None and plan.valid_until <= now:
        return "ended"
    if plan.valid_from > now:
        return "scheduled"
    return "active"


async def money_of_currency(session: SessionDep) -> Callable[[int, str | None], str]:
    """A formatter of (amount, currency): as the first market selling in it writes money."""
    markets: dict[str, Market] = {}
    for m in await list_markets(session):
        markets.setdefault(m.currency, m)

    def fmt(amount: int, currency: str | None) -> str:
        if currency is None:
            return "–"
        market = markets.get(currency)
        return display_price(market, amount) if market else format_minor(amount, currency, "en")

    return fmt


async def _shop_products(session: SessionDep, shop_id: int) -> list[Product]:
    listing = await search_products(
        session,
        ProductQuery(shop_id=shop_id, statuses=(ProductStatus.PUBLISHED,), limit=PLAN_PRODUCTS),
    )
    return list(listing.items)


def _rate_or_none(text: str) -> int | None:
    clean = text.strip()
    if not clean:
        return None
    if clean in {"0", "0 %", "0%"}:
        return 0
    return parse_percent(clean)


def _items(
    product_ids: list[int],
    product_rates: list[str],
    categories: list[str],
    category_rates: list[str],
) -> list[plans.PlanItemSpec]:
    if len(product_ids) != len(product_rates) or len(categories) != len(category_rates):
        raise Unprocessable(_("The form's rates do not match its products."), code="bad-plan-item")
    items = [
        plans.PlanItemSpec(rate_bp=bp, product_id=pid)
        for pid, text in zip(product_ids, product_rates, strict=True)
        if (bp := _rate_or_none(text)) is not None
    ]
    items += [
        plans.PlanItemSpec(rate_bp=bp, category=cat.strip())
        for cat, text in zip(categories, category_rates, strict=True)
        if (bp := _rate_or_none(text)) is not None
    ]
    if not items:
        raise Unprocessable(
            _("Give a rate to at least one product or category."), code="empty-plan"
        )
    return items


async def _creator_ids(session: SessionDep, kind: PlanKind, text: str) -> list[int]:
    """Targeted plans name creators by e-mail (commas, spaces or lines between them)."""
    emails = [e for e in re.split(r"[\s,;]+", text) if e]
    if kind is PlanKind.OPEN:
        return []
    if not emails:
        raise Unprocessable(
            _("A targeted plan names its creators: give their e-mail addresses."),
            code="targeted-needs-creators",
        )
    if len(emails) > MAX_TARGETS:
        raise Unprocessable(
            _("At most %(n)s creators per plan.", n=MAX_TARGETS), code="too-many-creators"
        )
    out = []
    for email in emails:
        user = await accounts.find_user_by_email(session, email)
        if user is None or Role.CREATOR not in user.role_names:
            raise Unprocessable(
                _("No creator has the e-mail address %(email)s.", email=email[:120]),
                code="unknown-creator",
            )
        out.append(user.id)
    return out


@dataclass(frozen=True, slots=True)
class RateRow:
    product: Product | None
    category: str | None
    rate_bp: int | None


# -- seller: plans -------------------------------------------------------------------------


@router.get("/seller/affiliate-plans")
async def plan_list(
    request: Request, session: SessionDep, principal: SellerPrincipal, tab: ShopTab
) -> Response:
    if tab is None:
        return redirect("/seller")
    rows = await plans.list_plans(session, tab.shop.id)
    products = await _shop_products(session, tab.shop.id)
    context = tab.context(
        "plans",
        _("Affiliate plans · %(shop)s", shop=tab.shop.name),
        plans=[(p, plan_state(p)) for p in reversed(rows)],
        product_rows=[RateRow(p, None, None) for p in products],
        category_rows=[RateRow(None, c, None) for c in sorted({p.category for p in products})],
        percent=percent,
    )
    return await render(request, session, principal, "seller/plans.html", context)


@router.post("/seller/affiliate-plans")
async def plan_create(
    session: SessionDep,
    principal: SellerPrincipal,
    shop_id: Annotated[Id, Form()],
    kind: Annotated[PlanKind, Form()],
    name: Annotated[Line, Form(max_length=120)] = "",
    creators: Annotated[Text, Form(max_length=4000)] = "",
    valid_until: Annotated[Line, Form(max_length=10)] = "",
    product_id: Ids = [],  # noqa: B006
    product_rate: Rates = [],  # noqa: B006
    category: Categories = [],  # noqa: B006
    category_rate: Rates = [],  # noqa: B006
) -> Response:
    shop = await ensure_shop_staff(session, principal, shop_id)
    items = _items(product_id, product_rate, category, category_rate)
    market = await require_market(session, shop.home_market)
    plan = await plans.create_plan(
        session,
        shop_id=shop.id,
        kind=kind,
        name=name.strip(),
        items=items,
        creator_ids=await _creator_ids(session, kind, creators),
        valid_until=_end_of_day(valid_until, market),
        created_by=principal.user_id,
    )
    return redirect(
        f"/seller/affiliate-plans/{plan.id}",
        flash=("success", _("Plan “%(name)s” is on.", name=plan.name or _("Untitled"))),
    )


@router.get("/seller/affiliate-plans/{plan_id}")
async def plan_detail(
    plan_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    plan = await plans.plan_for_staff(session, principal, plan_id)
    tab = await seller_tab(session, principal, plan.shop_id)
    assert tab is not None
    products = await _shop_products(session, plan.shop_id)
    by_product = {i.product_id: i.rate_bp for i in plan.items if i.product_id is not None}
    by_category = {i.category: i.rate_bp for i in plan.items if i.category is not None}
    extra = [
        await get_product(session, pid)
        for pid in by_product
        if pid is not None and pid not in {p.id for p in products}
    ]
    covered = [p.id for p in [*products, *extra] if p.id in by_product or p.category in by_category]
    uses = await plan_usage(session, plan, covered_products=covered)
    names = await _names(
        session, {u.creator_id for u in uses} | {c.creator_id for c in plan.creators}
    )
    emails = []
    for c in plan.creators:
        try:
            emails.append((await accounts.get_user(session, c.creator_id)).email)
        except NotFound:
            continue
    context = tab.context(
        "plans",
        _("Plan %(name)s", name=plan.name or f"#{plan.id}"),
        plan=plan,
        state=plan_state(plan),
        product_rows=[RateRow(p, None, by_product.get(p.id)) for p in [*products, *extra]],
        category_rows=[
            RateRow(None, c, by_category.get(c))
            for c in sorted({p.category for p in products} | set(by_category))
        ],
        uses=uses,
        names=names,
        target_emails=", ".join(emails),
        money=await money_of_currency(session),
        percent=percent,
    )
    return await render(request, session, principal, "seller/plan.html", context)


@router.post("/seller/affiliate-plans/{plan_id}")
async def plan_revise(
    plan_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    name: Annotated[Line, Form(max_length=120)] = "",
    creators: Annotated[Text, Form(max_length=4000)] = "",
    valid_until: Annotated[Line, Form(max_length=10)] = "",
    product_id: Ids = [],  # noqa: B006
    product_rate: Rates = [],  # noqa: B006
    category: Categories = [],  # noqa: B006
    category_rate: Rates = [],  # noqa: B006
) -> Response:
    """New terms from now on: the plan ends now and its successor starts (orders placed so far
    keep the rate they were bought at)."""
    plan = await plans.plan_for_staff(session, principal, plan_id)
    shop: Shop = await get_shop(session, plan.shop_id)
    market = await require_market(session, shop.home_market)
    kind = PlanKind(plan.kind)
    new = await plans.revise_plan(
        session,
        plan,
        items=_items(product_id, product_rate, category, category_rate),
        creator_ids=await _creator_ids(session, kind, creators),
        valid_until=_end_of_day(valid_until, market),
        name=name.strip(),
        created_by=principal.user_id,
    )
    return redirect(
        f"/seller/affiliate-plans/{new.id}",
        flash=(
            "success",
            _("The new terms apply from now on; orders already placed keep their rate."),
        ),
    )


@router.post("/seller/affiliate-plans/{plan_id}/end")
async def plan_end(plan_id: Id, session: SessionDep, principal: SellerPrincipal) -> Response:
    plan = await plans.plan_for_staff(session, principal, plan_id)
    await plans.end_plan(session, plan)
    return redirect(
        f"/seller/affiliate-plans/{plan.id}",
        flash=("info", _("The plan has ended: no new sale earns under it; past sales keep it.")),
    )


# -- creator: plans open to me -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferRow:
    product: Product
    rate_bp: int


@dataclass(frozen=True, slots=True)
class PlanOffer:
    plan: AffiliatePlan
    shop: Shop
    offers: list[OfferRow]


async def _offers(session: SessionDep, plan: AffiliatePlan) -> list[OfferRow]:
    """The plan's published products with their rate (a product's own over its category's)."""
    products = await _shop_products(session, plan.shop_id)
    by_product = {i.product_id: i.rate_bp for i in plan.items if i.product_id is not None}
    by_category = {i.category: i.rate_bp for i in plan.items if i.category is not None}
    rows = []
    for p in products:
        rate = by_product.get(p.id, by_category.get(p.category))
        if rate is not None:
            rows.append(OfferRow(p, rate))
    return rows


@router.get("/studio/plans")
async def creator_plans(
    request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    """Plans the creator may sell under now, with each product's rate and an "Add to show"."""
    offers = []
    for plan in await plans.plans_open_to(session, principal.user_id):
        shop = await get_shop(session, plan.shop_id)
        if not shop.allow_creators:
            continue
        rows = await _offers(session, plan)
        if rows:
            offers.append(PlanOffer(plan, shop, rows))
    shows = await live.open_sessions_of_creator(session, principal.user_id)
    showing = {s.id: set(await live.showcase_ids(session, s.id)) for s in shows}
    context = {
        "title": _("Affiliate plans"),
        "offers": offers,
        "shows": shows,
        "showing": showing,
        "percent": percent,
    }
    return await render(request, session, principal, "live/plans.html", context)


@router.post("/studio/plans/add")
async def add_to_show(
    session: SessionDep,
    principal: CreatorPrincipal,
    product_id: Annotated[Id, Form()],
    session_id: Annotated[Id, Form()],
) -> Response:
    """Put a plan's product in one of the creator's scheduled or live shows."""
    show = await live.get_session(session, session_id)
    live.ensure_owner(principal, show)
    product = await get_product(session, product_id)
    added = await live.add_to_showcase(session, show, product.id)
    text = (
        _("%(product)s is in the showcase of “%(show)s”.", product=product.title, show=show.title)
        if added
        else _("%(product)s was already in that showcase.", product=product.title)
    )
    return redirect("/studio/plans", flash=("success" if added else "info", text))
