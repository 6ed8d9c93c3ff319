"""Earnings made visible: what a creator earns and what creators cost a shop, for the pages.

Figures come straight from ``liveshop.creators.earnings`` (the ledger plus the contract's
projection), so the pages show exactly what the API shows and what will be paid. Money is
formatted by ``display_price`` / ``format_minor`` from integer minor units; the only
arithmetic here is integer sums of those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.money import format_minor
from liveshop.creators import earnings
from liveshop.live import service as live
from liveshop.markets.service import display_price, list_markets
from liveshop.web.charts import Bar, bar_chart

Fmt = Callable[[int], str]
BASE_FEE_LABELS = {
    "earned": "Earned",
    "pending": "Pending",
    "not_met": "Not met",
    "none": "No base fee",
}


async def money_format(session: AsyncSession, currency: str) -> Fmt:
    """A formatter for ``currency``: the first market that sells in it, else plain English."""
    for market in await list_markets(session):
        if market.currency == currency:
            return partial(display_price, market)
    return lambda amount: format_minor(amount, currency, "en")


def hours(minutes: int) -> str:
    """Live time as '1 h 30 min' (integer minutes, no float)."""
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def base_fee_label(status: str) -> str:
    return BASE_FEE_LABELS.get(status, status.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class SessionRow:
    e: earnings.SessionEarnings
    started: datetime | None


@dataclass(frozen=True, slots=True)
class PendingRow:
    p: earnings.PendingCommission
    show: str | None  # the show's title; None for a sale outside a show


@dataclass(frozen=True, slots=True)
class CreatorPage:
    totals: earnings.CreatorEarnings
    rows: list[SessionRow]
    pending: list[PendingRow]
    fmt: Fmt
    base_fee_earned_minor: int
    base_fee_pending_minor: int
    base_fee_not_met_minor: int
    commission_pending_minor: int
    commission_payable_minor: int
    chart: Markup | None


async def creator_page(session: AsyncSession, creator_id: int, *, days: int = 30) -> CreatorPage:
    totals = await earnings.creator_earnings(session, creator_id, days=days)
    fmt = await money_format(session, totals.currency or "GBP")
    rows = []
    for s in totals.sessions:
        found = await live.get_session(session, s.live_session_id)
        rows.append(SessionRow(s, found.actual_start or found.planned_start))

    def fees(status: str) -> int:
        return sum(s.base_fee_minor for s in totals.sessions if s.base_fee_status == status)

    pending = sum(s.commission_pending_minor for s in totals.sessions)
    chart = None
    if rows:
        bars = [
            Bar(
                label=r.started.strftime("%d %b") if r.started else f"#{r.e.live_session_id}",
                value=max(r.e.projected_total_minor, 0),
                hint=f"{r.e.title}: {fmt(r.e.projected_total_minor)}",
            )
            for r in reversed(rows)  # oldest first, like a timeline
        ]
        chart = bar_chart(
            bars,
            title=f"Earnings per show, last {days} days",
            chart_id="earnings-per-show",
            fmt=fmt,
            label_every=max(1, len(bars) // 8),
        )
    titles = {s.live_session_id: s.title for s in totals.sessions}
    pending_rows = [
        PendingRow(p, titles.get(p.live_session_id) if p.live_session_id else None)
        for p in totals.pending
    ]
    return CreatorPage(
        totals=totals,
        rows=rows,
        pending=pending_rows,
        fmt=fmt,
        base_fee_earned_minor=fees("earned"),
        base_fee_pending_minor=fees("pending"),
        base_fee_not_met_minor=fees("not_met"),
        commission_pending_minor=pending + totals.off_session_pending_minor,
        commission_payable_minor=sum(s.commission_payable_minor for s in totals.sessions)
        + totals.off_session_commission_minor
        - totals.off_session_pending_minor,
        chart=chart,
    )


def cost_share(bp: int | None) -> str:
    """Basis points as a percentage with two decimals, by integer arithmetic."""
    if bp is None:
        return "–"
    return f"{bp // 100}.{bp % 100:02d} %"


async def costs_chart(session: AsyncSession, rows: list[earnings.SessionCost]) -> list[Markup]:
    """One chart per currency: what each show cost the shop (commission + base fee)."""
    charts = []
    for currency in sorted({r.currency for r in rows}):
        fmt = await money_format(session, currency)
        mine = [r for r in rows if r.currency == currency]
        charts.append(
            bar_chart(
                [
                    Bar(
                        label=f"#{r.live_session_id}",
                        value=r.total_cost_minor,
                        hint=f"{r.title}: {fmt(r.total_cost_minor)} of {fmt(r.gmv_minor)} sales",
                    )
                    for r in mine
                ],
                title=f"Creator cost per show in {currency}",
                chart_id=f"creator-costs-{currency.lower()}",
                fmt=fmt,
                label_every=max(1, len(mine) // 8),
            )
        )
    return charts
