"""Market readiness: per market and week, the funnel *reached → viewers → buyers → repeat
buyers*, creators active and hours live, GMV, on-time dispatch and return rate; against the
admin's targets, a trend, a simple forecast and a plain recommendation for the launch state.

Weeks are the market's own: Monday 00:00 to Monday 00:00 in the market's time zone (a week
a clock change falls in is an hour shorter or longer). The stages:

- **reached**: distinct viewers who saw a show's card or joined a room that week;
- **viewers**: distinct viewers whose player sent a counted heartbeat (``analytics.audience``);
- **buyers**: distinct buyers with an order paid that week in the market;
- **repeat buyers**: of those, the ones who had paid for an order in the market before the
  week began.

Reached and viewers come from the rollups (``analytics_viewer_days``, per UTC day) for the
UTC days wholly inside the week, and from the raw events for the hours at either end (a
local midnight falls inside a UTC day) and for what the rollup has not reached; once the raw
events of an end are past the retention, its UTC day counts for the week holding most of it;
buyers, GMV, returns and dispatch from the orders themselves
(exact, never sampled). The forecast is a least-squares line through the last weeks'
buyers, carried four weeks ahead ("monthly buyers" = the next four weeks' sum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, distinct, exists, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from liveshop.analytics.models import Kind, MarketTarget, ViewerDay, events_table
from liveshop.analytics.rollup import done_minute
from liveshop.core.clock import utcnow
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import get_settings
from liveshop.live.models import LiveSession
from liveshop.logistics.models import Shipment
from liveshop.logistics.sla import deadline
from liveshop.markets.models import LaunchState, Market
from liveshop.markets.service import get_market
from liveshop.orders.models import Order

E = events_table.c
FORECAST_WEEKS = 4


def week_start(at: datetime, tz: str = "UTC", *, weeks_back: int = 0) -> datetime:
    """The (UTC) instant the week holding ``at`` began in time zone ``tz`` — Monday 00:00
    there — or the one ``weeks_back`` weeks before it."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday(), weeks=weeks_back)
    return datetime.combine(monday, time(), zone).astimezone(UTC)


def week_end(start: datetime, tz: str = "UTC") -> datetime:
    """The instant the week that began at ``start`` ends (the next Monday 00:00 in ``tz``)."""
    zone = ZoneInfo(tz)
    monday = start.astimezone(zone).date() + timedelta(days=7)
    return datetime.combine(monday, time(), zone).astimezone(UTC)


@dataclass
class Week:
    start: datetime  # Monday 00:00 in the market's time zone (as a UTC instant)
    reached: int = 0
    viewers: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    creators_active: int = 0
    minutes_live: int = 0
    orders: int = 0
    gmv_minor: int = 0
    returned_orders: int = 0
    dispatched: int = 0  # paid that week and picked up by a carrier
    dispatched_on_time: int = 0
    tz: str = "UTC"

    @property
    def local_start(self) -> datetime:
        """The week's start as the market's clock shows it (Monday 00:00, with its offset)."""
        return self.start.astimezone(ZoneInfo(self.tz))

    @property
    def label(self) -> str:
        return f"{self.local_start:%d %b}"

    @property
    def hours_live(self) -> float:
        return self.minutes_live / 60

    @property
    def repeat_rate_bp(self) -> int | None:
        return self.repeat_buyers * 10_000 // self.buyers if self.buyers else None

    @property
    def return_rate_bp(self) -> int | None:
        return self.returned_orders * 10_000 // self.orders if self.orders else None

    @property
    def on_time_bp(self) -> int | None:
        return self.dispatched_on_time * 10_000 // self.dispatched if self.dispatched else None


def _minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


DAY = 1440  # minutes


async def _distinct_viewers(
    session: AsyncSession, market: str, start: datetime, end: datetime, *, watched: bool
) -> int:
    m0, m1 = _minute(start), _minute(end)
    d0, d1 = -(-m0 // DAY), m1 // DAY  # the UTC days wholly inside the week
    done = await done_minute(session) or 0
    reach = (Kind.IMPRESSION, Kind.JOIN, Kind.HEARTBEAT)
    kinds = [str(k) for k in ((Kind.HEARTBEAT,) if watched else reach)]
    days = [(d0, d1)]
    ranges = [(max(done, m0), m1)]  # what the rollup has not reached
    # Raw events are kept from this UTC day on (``rollup.purge``; whole days).
    kept = (_minute(utcnow()) // DAY - get_settings().analytics_retention_days) * DAY
    for a, b, day in ((m0, d0 * DAY, d0 - 1), (d1 * DAY, m1, d1)):  # the week's two ends
        if a >= b:
            continue
        if a >= kept:
            ranges.append((a, b))
        elif b - a > DAY // 2:  # its raw events are gone: the day goes where most of it is
            days.append((day, day + 1))
    rolled = select(ViewerDay.viewer).where(
        ViewerDay.market_code == market,
        or_(*(and_(ViewerDay.day >= a, ViewerDay.day < b) for a, b in days)),
    )
    if watched:
        rolled = rolled.where(ViewerDay.heartbeats > 0)
    tail = select(E.viewer).where(
        E.market_code == market,
        E.viewer.is_not(None),
        E.kind.in_(kinds),
        or_(*(and_(E.minute >= a, E.minute < b) for a, b in ranges)),
    )
    both = union(rolled, tail).subquery()
    return int(await session.scalar(select(func.count()).select_from(both)) or 0)


async def week_figures(session: AsyncSession, market: Market, start: datetime) -> Week:
    end = week_end(start, market.timezone)
    code = market.code
    week = Week(start=start, tz=market.timezone)
    week.reached = await _distinct_viewers(session, code, start, end, watched=False)
    week.viewers = await _distinct_viewers(session, code, start, end, watched=True)
    in_week = (
        Order.market_code == code,
        Order.paid_at.is_not(None),
        Order.paid_at >= start,
        Order.paid_at < end,
    )
    week.buyers = int(
        await session.scalar(select(func.count(distinct(Order.buyer_id))).where(*in_week)) or 0
    )
    before = aliased(Order)
    week.repeat_buyers = int(
        await session.scalar(
            select(func.count(distinct(Order.buyer_id))).where(
                *in_week,
                exists().where(
                    before.buyer_id == Order.buyer_id,
                    before.market_code == code,
                    before.paid_at.is_not(None),
                    before.paid_at < start,
                ),
            )
        )
        or 0
    )
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Order.items_minor - Order.subsidy_minor), 0),
                func.count(Order.id).filter(Order.refunded_minor > 0),
            ).where(*in_week)
        )
    ).one()
    week.orders, week.gmv_minor, week.returned_orders = int(row[0]), int(row[1]), int(row[2])
    shows = (
        await session.execute(
            select(LiveSession.creator_id, LiveSession.actual_start, LiveSession.actual_end).where(
                LiveSession.market_code == code,
                LiveSession.actual_start.is_not(None),
                LiveSession.actual_start >= start,
                LiveSession.actual_start < end,
            )
        )
    ).all()
    week.creators_active = len({c for c, _s, _e in shows})
    now = utcnow()
    week.minutes_live = sum(
        max(int(((e or min(now, end)) - s).total_seconds()) // 60, 0)
        for _c, s, e in shows
        if s is not None
    )
    picked = (
        await session.execute(
            select(Order.id, Order.paid_at, func.min(Shipment.picked_up_at))
            .join(Shipment, Shipment.order_id == Order.id)
            .where(*in_week, Shipment.picked_up_at.is_not(None))
            .group_by(Order.id, Order.paid_at)
        )
    ).all()
    week.dispatched = len(picked)
    week.dispatched_on_time = sum(
        1
        for _o, paid, first in picked
        if paid is not None and first is not None and first <= deadline(paid, code, market.timezone)
    )
    return week


async def weekly_funnel(
    session: AsyncSession, code: str, *, weeks: int = 8, now: datetime | None = None
) -> list[Week]:
    """The last ``weeks`` weeks in the market's time zone, oldest first (the current week
    last, partial)."""
    market = await get_market(session, code)
    at = now or utcnow()
    starts = [week_start(at, market.timezone, weeks_back=n) for n in range(weeks - 1, -1, -1)]
    return [await week_figures(session, market, s) for s in starts]


# --- targets, trend, forecast, recommendation ---------------------------------------------


class Advice(StrEnum):
    STAY_IN_PILOT = "stay in pilot"
    GO_LIVE = "go live"
    STAY_LIVE = "stay live"
    PAUSE = "pause"
    RESUME_PILOT = "resume the pilot"
    START_PILOT = "start a pilot"
    SET_TARGETS = "set targets"


@dataclass(frozen=True)
class Targets:
    monthly_buyers: int = 0
    repeat_rate_bp: int = 0
    creators_per_week: int = 0

    @property
    def any(self) -> bool:
        return bool(self.monthly_buyers or self.repeat_rate_bp or self.creators_per_week)


async def targets_of(session: AsyncSession, code: str) -> Targets:
    row = await session.get(MarketTarget, code.upper())
    if row is None:
        return Targets()
    return Targets(row.monthly_buyers, row.repeat_rate_bp, row.creators_per_week)


MAX_TARGET = 10_000_000


async def set_targets(
    session: AsyncSession, code: str, targets: Targets, *, actor_id: int | None
) -> Targets:
    """An admin's targets for a market (flushes; the caller commits)."""
    market = await get_market(session, code)
    for name in ("monthly_buyers", "repeat_rate_bp", "creators_per_week"):
        value = getattr(targets, name)
        if not 0 <= value <= (10_000 if name == "repeat_rate_bp" else MAX_TARGET):
            raise Unprocessable(
                _("%(name)s is out of range", name=name), code="bad-target", field=name
            )
    row = await session.get(MarketTarget, market.code)
    if row is None:
        row = MarketTarget(market_code=market.code)
        session.add(row)
    row.monthly_buyers = targets.monthly_buyers
    row.repeat_rate_bp = targets.repeat_rate_bp
    row.creators_per_week = targets.creators_per_week
    row.updated_by = actor_id
    row.updated_at = utcnow()
    await session.flush()
    return targets


def linear_forecast(values: Sequence[int], ahead: int) -> list[int]:
    """Least squares through ``values`` (x = 0…n-1), the next ``ahead`` points, ≥ 0,
    rounded (integers in and out: no float reaches a stored figure)."""
    n = len(values)
    if n == 0:
        return [0] * ahead
    if n == 1:
        return [max(values[0], 0)] * ahead
    sx = n * (n - 1) // 2
    sxx = (n - 1) * n * (2 * n - 1) // 6
    sy = sum(values)
    sxy = sum(i * v for i, v in enumerate(values))
    denom = n * sxx - sx * sx
    # y = a + b·x with b = (n·Σxy − Σx·Σy) / denom, a = (Σy − b·Σx) / n, kept as fractions
    b_num = n * sxy - sx * sy
    out = []
    for k in range(ahead):
        x = n + k
        # a + b·x = (Σy·denom − b_num·Σx + b_num·x·n) / (n·denom)
        num = sy * denom - b_num * sx + b_num * x * n
        out.append(max((2 * num + n * denom) // (2 * n * denom), 0))
    return out


@dataclass
class Readiness:
    market: str
    name: str
    launch_state: str
    weeks: list[Week]
    targets: Targets
    forecast_weekly_buyers: list[int] = field(default_factory=list)
    advice: Advice = Advice.SET_TARGETS
    reasons: list[str] = field(default_factory=list)

    @property
    def forecast_monthly_buyers(self) -> int:
        return sum(self.forecast_weekly_buyers)

    @property
    def last_month_buyers(self) -> int:
        return sum(w.buyers for w in self.weeks[-FORECAST_WEEKS:])

    @property
    def trend(self) -> str:
        full = self.weeks[:-1] if len(self.weeks) > 1 else self.weeks
        recent = [w.buyers for w in full[-4:]]
        if len(recent) < 2 or recent[-1] == recent[0]:
            return "flat"
        return "rising" if recent[-1] > recent[0] else "falling"


def _pct(bp: int | None) -> str:
    return "—" if bp is None else f"{bp / 100:.1f} %"


def recommend(r: Readiness) -> tuple[Advice, list[str]]:
    t = r.targets
    state = LaunchState(r.launch_state)
    if not t.any:
        return Advice.SET_TARGETS, ["No targets set for this market yet."]
    full = r.weeks[:-1] if len(r.weeks) > 1 else r.weeks  # the current week is partial
    recent = full[-FORECAST_WEEKS:]
    buyers_now = sum(w.buyers for w in recent)
    repeat = [w.repeat_rate_bp for w in recent if w.repeat_rate_bp is not None]
    repeat_bp = sum(repeat) // len(repeat) if repeat else None
    creators = sum(w.creators_active for w in recent) // max(len(recent), 1)
    reasons: list[str] = []
    met = 0
    checks = 0
    if t.monthly_buyers:
        checks += 1
        best = max(buyers_now, r.forecast_monthly_buyers)
        ok = best >= t.monthly_buyers
        met += ok
        reasons.append(
            f"Buyers: {buyers_now} in the last 4 weeks, {r.forecast_monthly_buyers} forecast"
            f" for the next 4 (target {t.monthly_buyers}) — {'met' if ok else 'below'}."
        )
    if t.repeat_rate_bp:
        checks += 1
        ok = repeat_bp is not None and repeat_bp >= t.repeat_rate_bp
        met += ok
        reasons.append(
            f"Repeat buyers: {_pct(repeat_bp)} (target {_pct(t.repeat_rate_bp)})"
            f" — {'met' if ok else 'below'}."
        )
    if t.creators_per_week:
        checks += 1
        ok = creators >= t.creators_per_week
        met += ok
        reasons.append(
            f"Creators live a week: {creators} (target {t.creators_per_week})"
            f" — {'met' if ok else 'below'}."
        )
    weak = (
        t.monthly_buyers > 0
        and max(buyers_now, r.forecast_monthly_buyers) * 2 < t.monthly_buyers
        and r.trend == "falling"
    )
    if state is LaunchState.PLANNED:
        advice = Advice.START_PILOT
        reasons.append("A planned market learns its numbers in a pilot.")
    elif state is LaunchState.PILOT:
        if met == checks:
            advice = Advice.GO_LIVE
        elif weak:
            advice = Advice.PAUSE
            reasons.append("Under half the buyers target and falling.")
        else:
            advice = Advice.STAY_IN_PILOT
    elif state is LaunchState.LIVE:
        if weak:
            advice = Advice.PAUSE
            reasons.append("Under half the buyers target and falling.")
        else:
            advice = Advice.STAY_LIVE
    else:  # paused
        advice = Advice.RESUME_PILOT if met == checks or r.trend == "rising" else Advice.PAUSE
    return advice, reasons


async def readiness(
    session: AsyncSession, code: str, *, weeks: int = 8, now: datetime | None = None
) -> Readiness:
    market = await get_market(session, code)
    funnel = await weekly_funnel(session, market.code, weeks=weeks, now=now)
    full = funnel[:-1] if len(funnel) > 1 else funnel
    out = Readiness(
        market=market.code,
        name=market.name,
        launch_state=market.launch_state,
        weeks=funnel,
        targets=await targets_of(session, market.code),
        forecast_weekly_buyers=linear_forecast([w.buyers for w in full], FORECAST_WEEKS),
    )
    out.advice, out.reasons = recommend(out)
    return out
