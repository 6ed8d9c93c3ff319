from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from liveshop.analytics.readiness import Readiness, Week
from liveshop.core.types import BodyId, Count


class TargetsIn(BaseModel):
    monthly_buyers: Count = 0
    repeat_rate_bp: int = Field(default=0, strict=True, ge=0, le=10_000)
    creators_per_week: Count = 0


class ImpressionsIn(BaseModel):
    """Shows whose cards a page showed (the home page sends them once per page view)."""

    session_ids: list[BodyId] = Field(max_length=50)
    vid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")


class WeekOut(BaseModel):
    week_start: datetime
    reached: int
    viewers: int
    buyers: int
    repeat_buyers: int
    creators_active: int
    hours_live: float
    orders: int
    gmv_minor: int
    return_rate_bp: int | None
    on_time_bp: int | None

    @classmethod
    def of(cls, w: Week) -> WeekOut:
        return cls(
            week_start=w.local_start,
            reached=w.reached,
            viewers=w.viewers,
            buyers=w.buyers,
            repeat_buyers=w.repeat_buyers,
            creators_active=w.creators_active,
            hours_live=round(w.minutes_live / 60, 2),
            orders=w.orders,
            gmv_minor=w.gmv_minor,
            return_rate_bp=w.return_rate_bp,
            on_time_bp=w.on_time_bp,
        )


class TargetsOut(BaseModel):
    monthly_buyers: int
    repeat_rate_bp: int
    creators_per_week: int


class ReadinessOut(BaseModel):
    market: str
    launch_state: str
    weeks: list[WeekOut]
    targets: TargetsOut
    trend: str
    forecast_weekly_buyers: list[int]
    forecast_monthly_buyers: int
    recommendation: str
    reasons: list[str]

    @classmethod
    def of(cls, r: Readiness) -> ReadinessOut:
        t = r.targets
        return cls(
            market=r.market,
            launch_state=r.launch_state,
            weeks=[WeekOut.of(w) for w in r.weeks],
            targets=TargetsOut(
                monthly_buyers=t.monthly_buyers,
                repeat_rate_bp=t.repeat_rate_bp,
                creators_per_week=t.creators_per_week,
            ),
            trend=r.trend,
            forecast_weekly_buyers=r.forecast_weekly_buyers,
            forecast_monthly_buyers=r.forecast_monthly_buyers,
            recommendation=str(r.advice),
            reasons=r.reasons,
        )


class AudienceOut(BaseModel):
    session_id: int
    status: str
    concurrent_now: int
    peak_viewers: int
    unique_viewers: int
    average_viewers: int
    watch_seconds: int
    live_seconds: int
    buyers: int
    conversion_bp: int | None
    orders: int
    gmv_minor: int
    currency: str
