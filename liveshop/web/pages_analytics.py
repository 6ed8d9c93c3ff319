"""Analytics pages: how the audience is counted (public), a show's per-minute charts with
its pins and deals, a creator's shows, a market's readiness (admins, beside its launch
state). Charts are server-side SVG (``web/charts.py``); every table has its CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from liveshop.accounts.deps import AdminPrincipal, CreatorPrincipal, MaybePrincipal, SessionDep
from liveshop.analytics import queries, readiness, views
from liveshop.analytics.audience import KNOWN_BOTS
from liveshop.analytics.queries import CONCURRENT_WINDOW_S
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id, Line
from liveshop.live import service as live
from liveshop.markets.models import LAUNCH_TRANSITIONS, LaunchState
from liveshop.markets.service import display_price, get_market
from liveshop.web.charts import Bar, Mark, bar_chart, minute_chart
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])


@router.get("/analytics/method")
async def method(request: Request, session: SessionDep, principal: MaybePrincipal) -> Response:
    context = {
        "title": _("How we count viewers"),
        "heartbeat_s": int(request.app.state.hub.config.heartbeat_s),
        "window_s": CONCURRENT_WINDOW_S,
        "bots": KNOWN_BOTS,
    }
    return await render(request, session, principal, "analytics/method.html", context)


@router.get("/studio/sessions/{session_id}/analytics")
async def show_analytics(
    session_id: Id, request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    """After the show (or during it): per-minute viewers and sales, pins and deals marked."""
    found = await live.get_session(session, session_id)
    live.ensure_owner(principal, found)
    report = await queries.session_report(session, found)
    market = await get_market(session, found.market_code)
    first = report.series[0].minute if report.series else 0
    # every minute from the first to the last, empty ones included
    by_minute = {m.minute: m for m in report.series}
    span = range(first, (report.series[-1].minute + 1) if report.series else first)
    minutes = [by_minute.get(i) or queries.Minute(minute=i) for i in span]
    marks = [
        Mark(mk.minute - first, mk.kind, f"{mk.label} at minute {mk.minute - first}")
        for mk in report.markers
    ]

    def label(i: int) -> str:
        return f"{i - first} min"

    viewers = minute_chart(
        [
            Bar(label(m.minute), m.viewers, f"minute {m.minute - first}: {m.viewers} viewers")
            for m in minutes
        ],
        marks,
        title="Viewers per minute (P: a pin, D: a flash deal)",
        chart_id="viewers",
    )
    sales = minute_chart(
        [
            Bar(label(m.minute), m.gmv_minor, f"minute {m.minute - first}: {m.orders} orders")
            for m in minutes
        ],
        marks,
        title=f"Sales per minute in {found.currency}",
        chart_id="sales",
        fmt=lambda v: display_price(market, v),
    )
    context = {
        "title": _("Analytics · %(title)s", title=found.title),
        "live": found,
        "report": report,
        "market": market,
        "viewers_chart": viewers,
        "sales_chart": sales,
        "minutes": minutes,
        "first": first,
    }
    return await render(request, session, principal, "analytics/show.html", context, market=market)


@router.get("/studio/analytics")
async def creator_analytics(
    request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    rows = await views.creator_shows(session, principal.user_id)
    market = await get_market(session, rows[0].market_code) if rows else None
    oldest_first = list(reversed(rows))

    def fmt(v: int | None) -> str:
        if v is None:
            return "–"
        return display_price(market, v) if market is not None else str(v)

    def day(r: views.ShowRow) -> str:
        return f"{r.started:%d %b}" if r.started else "–"

    every = max(len(rows) // 6, 1)
    charts = []
    if rows:
        charts = [
            bar_chart(
                [Bar(day(r), r.gmv_per_hour_minor or 0) for r in oldest_first],
                title="Sales per live hour, per show",
                chart_id="gmv-hour",
                fmt=fmt,
                label_every=every,
            ),
            bar_chart(
                [Bar(day(r), r.earnings_per_hour_minor or 0) for r in oldest_first],
                title="Your earnings per live hour, per show",
                chart_id="earn-hour",
                fmt=fmt,
                label_every=every,
            ),
        ]
    context = {"title": _("Your shows in numbers"), "rows": rows, "charts": charts, "fmt": fmt}
    return await render(
        request, session, principal, "analytics/creator.html", context, market=market
    )


@router.get("/admin/markets/{code}/readiness")
async def market_readiness(
    code: Line, request: Request, session: SessionDep, principal: AdminPrincipal
) -> Response:
    r = await readiness.readiness(session, code)
    market = await get_market(session, code)
    weeks = r.weeks
    funnel = [
        bar_chart(
            [Bar(w.label, getattr(w, stage)) for w in weeks],
            title=f"{name} per week",
            chart_id=f"funnel-{stage}",
            label_every=2,
        )
        for stage, name in (
            ("reached", "Reached"),
            ("viewers", "Viewers"),
            ("buyers", "Buyers"),
            ("repeat_buyers", "Repeat buyers"),
        )
    ]
    context = {
        "title": _("Readiness · %(name)s", name=market.name),
        "section": "markets",
        "r": r,
        "market": market,
        "funnel": funnel,
        "transitions": sorted(LAUNCH_TRANSITIONS[LaunchState(market.launch_state)]),
        "gmv": lambda v: display_price(market, v),
    }
    return await render(
        request, session, principal, "analytics/readiness.html", context, market=market
    )


@router.post("/admin/markets/{code}/targets")
async def set_targets(
    code: Line,
    session: SessionDep,
    principal: AdminPrincipal,
    monthly_buyers: Annotated[FormCount, Form()],
    repeat_rate_percent: Annotated[FormCount, Form(le=100)],
    creators_per_week: Annotated[FormCount, Form()],
) -> Response:
    await readiness.set_targets(
        session,
        code,
        readiness.Targets(monthly_buyers, repeat_rate_percent * 100, creators_per_week),
        actor_id=principal.user_id,
    )
    await session.commit()
    return redirect(
        f"/admin/markets/{code.upper()}/readiness", flash=("success", _("Targets saved."))
    )
