"""Markets: currency, tax, launch state, return window, shipping fee. Other domains ask here
whether they may sell, and what a market's rules are (never reading the table themselves)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop import audit
from liveshop.audit import Action
from liveshop.core import i18n
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.money import format_minor, tax_included
from liveshop.markets.models import (
    LAUNCH_TRANSITIONS,
    MAX_AUTO_CANCEL_DAYS,
    MAX_DISPATCH_DAYS,
    MAX_RETURN_WINDOW_DAYS,
    MAX_SHIPPING_FEE_MINOR,
    SELLABLE_STATES,
    CategoryCommission,
    LaunchState,
    Market,
    MarketLaunchEvent,
)


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    net_minor: int
    tax_minor: int
    gross_minor: int


async def list_markets(
    session: AsyncSession, *, state: LaunchState | None = None
) -> Sequence[Market]:
    query = select(Market).order_by(Market.code)
    if state is not None:
        query = query.where(Market.launch_state == state)
    return (await session.scalars(query)).all()


async def get_market(session: AsyncSession, code: str) -> Market:
    market = await session.get(Market, code.upper())
    if market is None:
        raise NotFound(
            _("market %(code)s does not exist", code=repr(code)), code="unknown-market", market=code
        )
    return market


async def require_market(session: AsyncSession, code: str) -> Market:
    """Like get_market, but an unknown code in a request body is a 422, not a 404."""
    market = await session.get(Market, code.upper())
    if market is None:
        raise Unprocessable(
            _("market %(code)s does not exist", code=repr(code)), code="unknown-market", market=code
        )
    return market


async def ensure_sellable(session: AsyncSession, code: str) -> Market:
    """Nothing is sold into a market unless it is in pilot or live."""
    market = await require_market(session, code)
    if LaunchState(market.launch_state) not in SELLABLE_STATES:
        raise Unprocessable(
            _(
                "%(name)s is %(launch_state)s: nothing can be sold there yet",
                name=market.name,
                launch_state=market.launch_state,
            ),
            code="market-not-open",
            market=market.code,
            launch_state=market.launch_state,
        )
    return market


def ensure_currency(market: Market, currency: str) -> None:
    if currency.upper() != market.currency:
        raise Unprocessable(
            _(
                "prices in %(name)s are in %(currency)s, not %(currency2)s",
                name=market.name,
                currency=market.currency,
                currency2=currency,
            ),
            code="wrong-currency",
            market=market.code,
            expected_currency=market.currency,
        )


async def change_launch_state(
    session: AsyncSession,
    code: str,
    to_state: LaunchState,
    *,
    changed_by: int | None,
    reason: str = "",
) -> Market:
    market = await get_market(session, code)
    current = LaunchState(market.launch_state)
    if to_state not in LAUNCH_TRANSITIONS[current]:
        allowed = ", ".join(sorted(LAUNCH_TRANSITIONS[current])) or "none"
        raise Conflict(
            _(
                "%(name)s cannot go from %(current)s to %(to_state)s (allowed: %(allowed)s)",
                name=market.name,
                current=current,
                to_state=to_state,
                allowed=allowed,
            ),
            code="illegal-launch-transition",
        )
    market.launch_state = to_state
    market.updated_at = utcnow()
    audit.record(
        session,
        actor_id=changed_by,
        action=Action.MARKET_LAUNCH_STATE,
        target_type="market",
        target_id=market.code,
        before={"launch_state": str(current)},
        after={"launch_state": str(to_state)},
        note=reason,
    )
    session.add(
        MarketLaunchEvent(
            market_code=market.code,
            from_state=current,
            to_state=to_state,
            changed_by=changed_by,
            reason=reason,
        )
    )
    await session.commit()
    return market


async def launch_history(session: AsyncSession, code: str) -> Sequence[MarketLaunchEvent]:
    await get_market(session, code)
    rows = await session.scalars(
        select(MarketLaunchEvent)
        .where(MarketLaunchEvent.market_code == code.upper())
        .order_by(MarketLaunchEvent.id)
    )
    return rows.all()


async def update_rates(
    session: AsyncSession,
    code: str,
    *,
    tax_rate_bp: int | None = None,
    platform_commission_bp: int | None = None,
    return_window_days: int | None = None,
    shipping_fee_minor: int | None = None,
    dispatch_days: int | None = None,
    auto_cancel_days: int | None = None,
    giveaway_terms: str | None = None,
    actor_id: int | None = None,
) -> Market:
    """Change a market's rates and rules; each applies from now on (an order keeps the tax,
    commission and shipping it was placed with; the return window is read when a commission's
    state is)."""
    market = await get_market(session, code)
    _check_whole("tax_rate_bp", tax_rate_bp, 0, 10_000)
    _check_whole("platform_commission_bp", platform_commission_bp, 0, 10_000)
    _check_whole("return_window_days", return_window_days, 0, MAX_RETURN_WINDOW_DAYS)
    _check_whole("shipping_fee_minor", shipping_fee_minor, 0, MAX_SHIPPING_FEE_MINOR)
    _check_whole("dispatch_days", dispatch_days, 1, MAX_DISPATCH_DAYS)
    _check_whole("auto_cancel_days", auto_cancel_days, 1, MAX_AUTO_CANCEL_DAYS)
    before = _rates(market)
    if tax_rate_bp is not None:
        market.tax_rate_bp = tax_rate_bp
    if platform_commission_bp is not None:
        market.platform_commission_bp = platform_commission_bp
    if return_window_days is not None:
        market.return_window_days = return_window_days
    if shipping_fee_minor is not None:
        market.shipping_fee_minor = shipping_fee_minor
    if dispatch_days is not None:
        market.dispatch_days = dispatch_days
    if auto_cancel_days is not None:
        market.auto_cancel_days = auto_cancel_days
    if giveaway_terms is not None:
        market.giveaway_terms = giveaway_terms.strip() or None
    market.updated_at = utcnow()
    after = _rates(market)
    audit.record(
        session,
        actor_id=actor_id,
        action=Action.MARKET_RATES,
        target_type="market",
        target_id=market.code,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    await session.commit()
    return market


def _check_whole(what: str, value: int | None, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Unprocessable(
            _(
                "%(what)s must be a whole number from %(low)s to %(high)s",
                what=what,
                low=low,
                high=high,
            ),
            code="bad-market-setting",
            setting=what,
        )


async def return_window(session: AsyncSession, code: str) -> timedelta:
    """How long after delivery a buyer in this market may still return goods, for orders placed
    now (checkout freezes it on the order: ``Order.return_window_days``)."""
    return timedelta(days=(await get_market(session, code)).return_window_days)


async def return_windows(session: AsyncSession) -> dict[str, timedelta]:
    """Every market's current return window (what new orders get; an order's own window is
    frozen on it when it is placed)."""
    rows = await session.execute(select(Market.code, Market.return_window_days))
    return {code: timedelta(days=int(days)) for code, days in rows.all()}


def shipping_breakdown(market: Market) -> TaxBreakdown:
    """The market's flat shipping fee per shop order, split into net and tax like a price."""
    return tax_breakdown(market, market.shipping_fee_minor)


def tax_breakdown(market: Market, price_minor: int) -> TaxBreakdown:
    """Split a shelf price into net and tax the way the market shows prices."""
    if market.prices_include_tax:
        tax = tax_included(price_minor, market.tax_rate_bp)
        return TaxBreakdown(net_minor=price_minor - tax, tax_minor=tax, gross_minor=price_minor)
    tax = (price_minor * market.tax_rate_bp + 5000) // 10000
    return TaxBreakdown(net_minor=price_minor, tax_minor=tax, gross_minor=price_minor + tax)


def display_price(market: Market, amount_minor: int) -> str:
    """The amount as the viewer reads it: the market's locale, or the language the request
    chose as written in the market's country (``core.i18n.display_locale``)."""
    locale = i18n.display_locale(market.locale, market.code)
    return format_minor(amount_minor, market.currency, locale)


async def platform_commission_bp(session: AsyncSession, market: Market, category: str) -> int:
    """The platform's rate for a category in a market: the category override, else the default."""
    rate = await session.scalar(
        select(CategoryCommission.rate_bp).where(
            CategoryCommission.market_code == market.code, CategoryCommission.category == category
        )
    )
    return market.platform_commission_bp if rate is None else int(rate)


async def list_category_commissions(
    session: AsyncSession, code: str
) -> Sequence[CategoryCommission]:
    market = await get_market(session, code)
    rows = await session.scalars(
        select(CategoryCommission)
        .where(CategoryCommission.market_code == market.code)
        .order_by(CategoryCommission.category)
    )
    return rows.all()


def _rates(market: Market) -> dict[str, int | str | None]:
    return {
        "tax_rate_bp": market.tax_rate_bp,
        "platform_commission_bp": market.platform_commission_bp,
        "return_window_days": market.return_window_days,
        "shipping_fee_minor": market.shipping_fee_minor,
        "dispatch_days": market.dispatch_days,
        "auto_cancel_days": market.auto_cancel_days,
        "giveaway_terms": market.giveaway_terms,
    }


async def set_category_commission(
    session: AsyncSession, code: str, category: str, rate_bp: int, *, actor_id: int | None = None
) -> CategoryCommission:
    """Applies to orders placed from now on; past orders keep the rate they were sold at."""
    market = await get_market(session, code)
    row = await session.scalar(
        select(CategoryCommission).where(
            CategoryCommission.market_code == market.code, CategoryCommission.category == category
        )
    )
    before = None if row is None else {"rate_bp": row.rate_bp}
    if row is None:
        row = CategoryCommission(market_code=market.code, category=category, rate_bp=rate_bp)
        session.add(row)
    else:
        row.rate_bp = rate_bp
        row.updated_at = utcnow()
    audit.record(
        session,
        actor_id=actor_id,
        action=Action.MARKET_COMMISSION,
        target_type="market",
        target_id=f"{market.code}/{category}",
        before=before,
        after={"rate_bp": rate_bp},
    )
    await session.commit()
    return row
