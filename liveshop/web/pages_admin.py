"""Admin: markets (launch state, return window, shipping fee, dispatch deadline), commission
rates per category, users and roles, and the audit log of privileged actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request, Response

from liveshop import audit
from liveshop.accounts import service as accounts
from liveshop.accounts.deps import AdminPrincipal, SessionDep
from liveshop.accounts.models import Role
from liveshop.analytics import readiness
from liveshop.catalog.models import Category
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id, Line, Text
from liveshop.markets import service as markets
from liveshop.markets.models import (
    LAUNCH_TRANSITIONS,
    MAX_AUTO_CANCEL_DAYS,
    MAX_DISPATCH_DAYS,
    MAX_RETURN_WINDOW_DAYS,
    LaunchState,
)
from liveshop.web.flash import redirect
from liveshop.web.money_input import example_amount, parse_money
from liveshop.web.routing import page_router
from liveshop.web.templating import current_market, render

router = page_router(prefix="/admin", tags=["pages"])

USERS_PAGE = 50
AUDIT_PAGE = 30


def percent(bp: int) -> str:
    """Basis points as a percentage for people: 500 → '5', 1250 → '12.5'."""
    value = Decimal(bp) / 100
    return f"{value.normalize():f}"


def parse_percent(text: str) -> int:
    """'12.5' → 1250 basis points; anything that is not 0–100 in steps of 0.01 is a 422."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation as exc:
        raise Unprocessable(
            _("%(text)s is not a percentage", text=repr(text)), code="bad-rate"
        ) from exc
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= 10000:
        raise Unprocessable(
            _("A rate is a percentage from 0 to 100 with at most two decimals."), code="bad-rate"
        )
    return int(bp)


@router.get("")
async def admin_home(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    rates: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
) -> Response:
    all_markets = await markets.list_markets(session)
    rates_market = await markets.get_market(
        session, rates or (await current_market(request, session)).code
    )
    overrides = {
        r.category: r.rate_bp
        for r in await markets.list_category_commissions(session, rates_market.code)
    }
    context = {
        "title": _("Markets and commissions"),
        "section": "markets",
        "all_markets": all_markets,
        "transitions": {
            m.code: sorted(LAUNCH_TRANSITIONS[LaunchState(m.launch_state)]) for m in all_markets
        },
        "advice": {
            m.code: str((await readiness.readiness(session, m.code, weeks=5)).advice)
            for m in all_markets
            if LaunchState(m.launch_state) is not LaunchState.PLANNED
        },
        "rates_market": rates_market,
        "categories": list(Category),
        "overrides": overrides,
        "percent": percent,
        "fee_example": example_amount(
            rates_market.shipping_fee_minor,
            rates_market.currency_exponent,
            rates_market.locale,
        ),
    }
    return await render(request, session, principal, "admin/index.html", context)


@router.post("/markets/{code}/launch-state")
async def change_launch_state(
    code: Line,
    session: SessionDep,
    principal: AdminPrincipal,
    to_state: Annotated[LaunchState, Form()],
    reason: Annotated[Text, Form(max_length=300)] = "",
) -> Response:
    market = await markets.change_launch_state(
        session, code, to_state, changed_by=principal.user_id, reason=reason.strip()
    )
    return redirect(
        f"/admin#market-{market.code}",
        flash=(
            "success",
            _(
                "%(name)s is now %(launch_state)s.",
                name=market.name,
                launch_state=market.launch_state,
            ),
        ),
    )


@router.post("/markets/{code}/commissions")
async def set_commission(
    code: Line,
    session: SessionDep,
    principal: AdminPrincipal,
    category: Annotated[Category, Form()],
    rate_percent: Annotated[Line, Form(max_length=12)],
) -> Response:
    """Applies to orders placed from now on; past orders keep the rate they were sold at."""
    bp = parse_percent(rate_percent)
    row = await markets.set_category_commission(
        session, code, category, bp, actor_id=principal.user_id
    )
    return redirect(
        f"/admin?rates={row.market_code}#rates",
        flash=(
            "success",
            _(
                "%(capitalize)s in %(market_code)s: %(percent)s %%.",
                capitalize=category.capitalize(),
                market_code=row.market_code,
                percent=percent(bp),
            ),
        ),
    )


@router.post("/markets/{code}/rules")
async def set_rules(
    code: Line,
    session: SessionDep,
    principal: AdminPrincipal,
    return_window_days: Annotated[FormCount, Form(ge=0, le=MAX_RETURN_WINDOW_DAYS)],
    shipping_fee: Annotated[Line, Form(max_length=24)],
) -> Response:
    """The return window and the flat shipping fee per shop order, both for orders placed
    from now on (an order keeps the window of its purchase)."""
    market = await markets.get_market(session, code)
    text = shipping_fee.strip()
    fee = 0 if text and set(text) <= set("0.,") else None
    if fee is None:
        fee = parse_money(text, market.currency_exponent, market.locale)
    market = await markets.update_rates(
        session,
        code,
        return_window_days=return_window_days,
        shipping_fee_minor=fee,
        actor_id=principal.user_id,
    )
    return redirect(
        f"/admin?rates={market.code}#rules",
        flash=(
            "success",
            _(
                "%(name)s: returns within %(return_window_days)s days, shipping %(display_price)s per order, for orders placed from now on.",  # noqa: E501
                name=market.name,
                return_window_days=market.return_window_days,
                display_price=markets.display_price(market, market.shipping_fee_minor),
            ),
        ),
    )


@router.post("/markets/{code}/dispatch")
async def set_dispatch(
    code: Line,
    session: SessionDep,
    principal: AdminPrincipal,
    dispatch_days: Annotated[FormCount, Form(ge=1, le=MAX_DISPATCH_DAYS)],
    auto_cancel_days: Annotated[FormCount, Form(ge=1, le=MAX_AUTO_CANCEL_DAYS)],
) -> Response:
    """The dispatch promise: working days a seller has to hand a paid order to a carrier,
    and the grace after it before the order is cancelled and refunded (audit-logged)."""
    market = await markets.update_rates(
        session,
        code,
        dispatch_days=dispatch_days,
        auto_cancel_days=auto_cancel_days,
        actor_id=principal.user_id,
    )
    return redirect(
        f"/admin?rates={market.code}#dispatch",
        flash=(
            "success",
            _(
                "%(name)s: dispatch within %(dispatch_days)s working days; orders not with a carrier %(auto_cancel_days)s working days later are cancelled and refunded.",  # noqa: E501
                name=market.name,
                dispatch_days=market.dispatch_days,
                auto_cancel_days=market.auto_cancel_days,
            ),
        ),
    )


@router.post("/markets/{code}/giveaway-terms")
async def set_giveaway_terms(
    code: Line,
    session: SessionDep,
    principal: AdminPrincipal,
    terms: Annotated[Text, Form(max_length=4000)] = "",
) -> Response:
    """The terms shown on the market's live giveaways (empty: the default; audit-logged)."""
    market = await markets.update_rates(
        session, code, giveaway_terms=terms, actor_id=principal.user_id
    )
    return redirect(
        f"/admin?rates={market.code}#giveaway-terms",
        flash=("success", _("%(market)s: giveaway terms saved.", market=market.name)),
    )


@router.get("/users")
async def users_page(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    role: Role | None = None,
    page: Annotated[FormCount, Query(ge=1, le=10_000)] = 1,
) -> Response:
    rows, total = await accounts.list_users(
        session, role=role, limit=USERS_PAGE, offset=(page - 1) * USERS_PAGE
    )
    context = {
        "title": _("Users and roles"),
        "section": "users",
        "users": rows,
        "role": role,
        "roles": list(Role),
        "page": page,
        "pages": max(1, -(-total // USERS_PAGE)),
        "total": total,
    }
    return await render(request, session, principal, "admin/users.html", context)


def _day_start(day: date | None, *, after: bool = False) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1) if after else day, time(), tzinfo=UTC)


def _actor_filter(text: str) -> int | None:
    """A GET form sends empty fields as ``actor=``: empty is no filter."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) < 2**63:
        raise Unprocessable(_("The actor is a user's number."), code="bad-filter")
    return int(text)


def _day_filter(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unprocessable(
            _("%(text)s is not a date (YYYY-MM-DD).", text=repr(text)), code="bad-filter"
        ) from None


@router.get("/audit")
async def audit_page(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    actor: Annotated[Line, Query(max_length=20)] = "",
    action: Annotated[Line, Query(max_length=60)] = "",
    since: Annotated[Line, Query(max_length=10)] = "",
    until: Annotated[Line, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Who did what, newest first: filter by actor, action (or kind: ``market.``) and days
    (``until`` included; days are UTC)."""
    actor_id, first, last = _actor_filter(actor), _day_filter(since), _day_filter(until)
    found = await audit.search(
        session,
        actor_id=actor_id,
        action=action.strip() or None,
        since=_day_start(first),
        until=_day_start(last, after=True),
        limit=AUDIT_PAGE,
        offset=(page - 1) * AUDIT_PAGE,
    )
    names = await accounts.display_names(
        session, (e.actor_id for e in found.items if e.actor_id is not None)
    )
    query = {"actor": actor_id, "action": action.strip(), "since": first, "until": last}
    kept = urlencode({k: v for k, v in query.items() if v})
    base = f"/admin/audit?{kept}&" if kept else "/admin/audit?"
    context = {
        "title": _("Audit log"),
        "section": "audit",
        "entries": found.items,
        "names": names,
        "actions": sorted({str(a) for a in audit.Action}),
        "kinds": sorted({str(a).split(".")[0] + "." for a in audit.Action}),
        "filters": query,
        "page": page,
        "pages": max(1, -(-found.total // AUDIT_PAGE)),
        "total": found.total,
        "base": base,
    }
    return await render(request, session, principal, "admin/audit.html", context)


@router.post("/users/{user_id}/roles")
async def set_roles(
    user_id: Id,
    session: SessionDep,
    principal: AdminPrincipal,
    roles: Annotated[list[Role], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    next: Annotated[Line, Form(max_length=300)] = "",
) -> Response:
    if not roles:
        raise Unprocessable(_("A user needs at least one role."), code="no-roles")
    if user_id == principal.user_id and Role.ADMIN not in roles:
        raise Conflict(_("You cannot remove your own admin role."), code="self-demotion")
    user = await accounts.set_roles(session, user_id, roles, actor_id=principal.user_id)
    back = next if next.startswith("/admin/users") else "/admin/users"
    names = ", ".join(sorted(user.role_names))
    return redirect(
        f"{back}#user-{user.id}",
        flash=("success", _("%(name)s: %(roles)s.", name=user.display_name, roles=names)),
    )
