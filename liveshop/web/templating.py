"""Jinja2 set-up and the context every page shares (who is signed in, market, flashes).

Templates autoescape; money is formatted by ``markets.service.display_price`` (babel, with
ISO 4217 digits), never by the template doing arithmetic on floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.core import i18n
from liveshop.core.errors import NotFound
from liveshop.core.i18n import lazy_gettext
from liveshop.logistics import wording
from liveshop.logistics.eta import date_range
from liveshop.markets.models import SELLABLE_STATES, LaunchState, Market
from liveshop.markets.service import display_price, get_market, list_markets
from liveshop.web.flash import clear_flashes, read_flashes
from liveshop.web.js_messages import MESSAGES as JS_MESSAGES
from liveshop.web.js_messages import messages_json
from liveshop.web.language import LANGUAGE_COOKIE
from liveshop.web.security import ensure_form_token, finish_response

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.add_extension("jinja2.ext.i18n")
# {{ _("Buy now") }}, {{ ngettext("%(num)d left", "%(num)d left", n) }}, {% trans %}…{% endtrans %}
# in the request's language (core/i18n.py).
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.raw_gettext, i18n.raw_ngettext, newstyle=True, pgettext=i18n.raw_pgettext
)
STATIC_DIR = HERE / "static"

MARKET_COOKIE = "liveshop_market"
DEFAULT_MARKET = "GB"

STATUS_LABELS = {
    "pending_payment": lazy_gettext("Awaiting payment"),
    "paid": lazy_gettext("Paid"),
    "fulfilling": lazy_gettext("Packing"),
    "shipped": lazy_gettext("Shipped"),
    "delivered": lazy_gettext("Delivered"),
    "completed": lazy_gettext("Completed"),
    "cancelled": lazy_gettext("Cancelled"),
    "refund_requested": lazy_gettext("Refund requested"),
    "refunded": lazy_gettext("Refunded"),
    "scheduled": lazy_gettext("Upcoming"),
    "live": lazy_gettext("Live"),
    "ended": lazy_gettext("Replay"),
    "planned": lazy_gettext("Planned"),
    "pilot": lazy_gettext("Pilot"),
    "paused": lazy_gettext("Paused"),
    "draft": lazy_gettext("Draft"),
    "published": lazy_gettext("Published"),
    "archived": lazy_gettext("Archived"),
}


def money(amount_minor: int | None, market: Market) -> str:
    return "–" if amount_minor is None else display_price(market, amount_minor)


def variant_label(attributes: dict[str, Any] | None) -> str:
    """'M · Black' from {'size': 'M', 'colour': 'Black'}; 'Standard' when there is none."""
    values = [str(v) for v in (attributes or {}).values() if v not in (None, "")]
    return " · ".join(values) or i18n.gettext("Standard")


def when(value: datetime | None, tz: str | None = None) -> str:
    """A moment in the market's time zone (UTC where none is given), written the way the
    page's language writes dates (babel's medium date, short time)."""
    if value is None:
        return "–"
    local = value.astimezone(ZoneInfo(tz)) if tz else value.astimezone(UTC)
    suffix = "" if tz else " UTC"
    language = i18n.get_locale()
    if language == i18n.DEFAULT_LOCALE or language == i18n.PSEUDO_LOCALE:
        return local.strftime("%d %b %Y, %H:%M") + suffix
    locale = i18n.format_locale(language, None)
    day = format_date(local, "medium", locale=locale)
    return f"{day}, {format_time(local, 'short', locale=locale)}{suffix}"


# The reasons liveshop itself gives for cancelling an order (stored in English, as the API
# returns them), in the viewer's words on the order page; a person's own typed reason is
# shown as they wrote it.
CANCEL_REASONS = {
    "payment not received in time": lazy_gettext("payment not received in time"),
    "sold out before payment arrived": lazy_gettext("sold out before payment arrived"),
    "cancelled by the buyer": lazy_gettext("cancelled by the buyer"),
    "cancelled by the seller": lazy_gettext("cancelled by the seller"),
}
_LATE = re.compile(
    r"not dispatched by the seller in time \(deadline (?P<day>[^)]{1,20})\): "
    r"cancelled and refunded in full"
)
_AUCTION_FAILED = re.compile(r"auction payment failed: (?P<why>.{1,200})")


def cancel_reason(reason: str) -> str:
    known = CANCEL_REASONS.get(reason)
    if known is not None:
        return str(known)
    late = _LATE.fullmatch(reason)
    if late is not None:
        try:
            day = date.fromisoformat(late["day"])
        except ValueError:
            when = late["day"]
        else:
            when = date_range(day, day)
        return i18n.gettext(
            "not sent by the seller in time (deadline %(day)s): cancelled and refunded in full",
            day=when,
        )
    failed = _AUCTION_FAILED.fullmatch(reason)
    if failed is not None:
        return i18n.gettext("the winning bid could not be charged (%(why)s)", why=failed["why"])
    return reason


def option_names(attributes: dict[str, Any] | None) -> str:
    """'size & colour' from a SKU's attributes, in the page's language where the name is a
    common one (``js_messages``' ``attr_*``, as the room's script says them), else as the
    seller wrote it; "option" when the SKU varies by nothing."""
    names = []
    for key in attributes or {}:
        known = JS_MESSAGES.get(f"attr_{key.lower()}")
        names.append(str(known) if known is not None else key.replace("_", " "))
    return " & ".join(names) or i18n.gettext("option")


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status.replace("_", " ").capitalize()


templates.env.filters["variant"] = variant_label
templates.env.filters["when"] = when
templates.env.filters["status_label"] = status_label
templates.env.filters["cancel_reason"] = cancel_reason
templates.env.filters["option_names"] = option_names
templates.env.globals["money"] = money
templates.env.globals["tracking_words"] = wording.event_words  # a carrier's event, translated
templates.env.globals["js_messages"] = messages_json  # the scripts' words (static/js/i18n.js)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user as the layout shows them."""

    user_id: int
    name: str
    email: str
    roles: list[str]
    principal: Principal

    def has(self, *roles: Role) -> bool:
        return self.principal.has(*roles, Role.ADMIN)


async def current_market(request: Request, session: AsyncSession) -> Market:
    """The market the visitor shops in: ``?market=``, else their cookie, else GB."""
    for code in (request.query_params.get("market"), request.cookies.get(MARKET_COOKIE)):
        if code and len(code) == 2 and code.isalpha():
            try:
                return await get_market(session, code)
            except NotFound:
                continue
    return await get_market(session, DEFAULT_MARKET)


async def shop_markets(session: AsyncSession) -> list[Market]:
    """Markets a visitor can shop in (pilot or live), for the switcher."""
    return [
        m for m in await list_markets(session) if LaunchState(m.launch_state) in SELLABLE_STATES
    ]


async def viewer_of(session: AsyncSession, principal: Principal | None) -> Viewer | None:
    if principal is None:
        return None
    user = await accounts.get_user(session, principal.user_id)
    return Viewer(
        user_id=user.id,
        name=user.display_name,
        email=user.email,
        roles=sorted(str(r) for r in principal.roles),
        principal=principal,
    )


def page_language(request: Request, principal: Principal | None, market: Market) -> str:
    """Choose (and set) the language a page is in: the user's preference, else the viewer's
    cookie, else the browser's among the page's market's languages, else the market's."""
    language = i18n.choose_language(
        preference=principal.language if principal is not None else None,
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
        market_code=market.code,
    )
    # Money and dates: in the chosen language when the viewer chose one (web/language.py).
    named = (principal is not None and principal.language is not None) or (
        LANGUAGE_COOKIE in request.cookies
    )
    i18n.set_locale(language, display=named)
    return language


def page_messages(*messages: dict[str, Any]) -> Markup:
    """The page's messages for its scripts (``static/js/i18n.js`` reads them): one JSON
    island, HTML-safe."""
    merged: dict[str, Any] = {}
    for m in messages:
        merged.update(m)
    return htmlsafe_json_dumps(merged, sort_keys=False)


async def render(
    request: Request,
    session: AsyncSession,
    principal: Principal | None,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    market: Market | None = None,
) -> HTMLResponse:
    """Render a page inside the layout. ``context`` may override any shared value."""
    market = market or await current_market(request, session)
    language = page_language(request, principal, market)
    shared: dict[str, Any] = {
        "ui_language": language,
        "html_lang": i18n.html_lang(
            i18n.DEFAULT_LOCALE if language == i18n.PSEUDO_LOCALE else language
        ),
        "ui_languages": i18n.LANGUAGES,
        "viewer": await viewer_of(session, principal),
        "market": market,
        "markets": await shop_markets(session),
        "csrf_token": ensure_form_token(request),
        "flashes": read_flashes(request),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "Role": Role,
    }
    shared.update(context or {})
    response = templates.TemplateResponse(request, template, shared, status_code=status_code)
    clear_flashes(request, response)
    finish_response(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
