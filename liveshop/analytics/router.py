"""``/api/v1/analytics``: a session's report and CSV (its creator, admins), its public
audience series, a creator's and a shop's figures, the markets' readiness and targets
(admins), and the home page's impressions beacon."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from liveshop.accounts.deps import (
    AdminPrincipal,
    CreatorPrincipal,
    CurrentPrincipal,
    MaybePrincipal,
    SessionDep,
)
from liveshop.analytics import queries, readiness, views
from liveshop.analytics.capture import Capture, Facts, event_row
from liveshop.analytics.models import Kind
from liveshop.analytics.schemas import AudienceOut, ImpressionsIn, ReadinessOut, TargetsIn
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.i18n import gettext
from liveshop.core.types import Id, Line
from liveshop.live import service as live
from liveshop.live.models import LiveSession, SessionStatus

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], responses=PROBLEM_RESPONSES)

Code = Annotated[Line, Path(min_length=2, max_length=2)]


def csv_response(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def owned_session(
    session: SessionDep, principal: CurrentPrincipal, session_id: int
) -> LiveSession:
    found = await live.get_session(session, session_id)
    live.ensure_owner(principal, found)
    return found


@router.get("/sessions/{session_id}")
async def session_audience(
    session_id: Id, session: SessionDep, principal: CurrentPrincipal
) -> AudienceOut:
    """The show's counted audience, buyers and conversion (its creator, admins)."""
    found = await owned_session(session, principal, session_id)
    report = await queries.session_report(session, found)
    a = report.audience
    return AudienceOut(
        session_id=found.id,
        status=found.status,
        concurrent_now=a.concurrent_now,
        peak_viewers=a.peak,
        unique_viewers=a.unique,
        average_viewers=a.average,
        watch_seconds=a.watch_seconds,
        live_seconds=a.live_seconds,
        buyers=report.buyers,
        conversion_bp=report.conversion_bp,
        orders=found.orders_count,
        gmv_minor=found.gmv_minor,
        currency=found.currency,
    )


@router.get("/sessions/{session_id}/minutes.csv", response_class=Response)
async def session_minutes_csv(
    session_id: Id, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    found = await owned_session(session, principal, session_id)
    series = await queries.minute_series(session, found.id)
    return csv_response(views.minutes_csv(series), f"show-{found.id}-minutes.csv")


@router.get("/sessions/{session_id}/audience.csv", response_class=Response)
async def session_audience_csv(session_id: Id, session: SessionDep, _: MaybePrincipal) -> Response:
    """Anyone: the per-minute counted viewers of a show that has gone live (the method is
    at ``/analytics/method``)."""
    found = await live.get_session(session, session_id)
    if found.status not in (SessionStatus.LIVE, SessionStatus.ENDED):
        raise NotFound(gettext("this show has not been live"), code="no-audience-yet")
    series = await queries.minute_series(session, found.id)
    return csv_response(views.audience_csv(series), f"show-{found.id}-audience.csv")


@router.get("/creators/me/shows.csv", response_class=Response)
async def my_shows_csv(session: SessionDep, principal: CreatorPrincipal) -> Response:
    rows = await views.creator_shows(session, principal.user_id)
    return csv_response(views.shows_csv(rows), "my-shows.csv")


@router.get("/shops/{shop_id}/sellers.csv", response_class=Response)
async def shop_sellers_csv(
    shop_id: Id, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await ensure_shop_staff(session, principal, shop_id)
    rows = await views.shop_sellers(session, shop_id)
    return csv_response(views.sellers_csv(rows), f"shop-{shop_id}-sellers.csv")


@router.get("/markets/{code}/readiness")
async def market_readiness(code: Code, session: SessionDep, _: AdminPrincipal) -> ReadinessOut:
    return ReadinessOut.of(await readiness.readiness(session, code))


@router.get("/markets/{code}/weeks.csv", response_class=Response)
async def market_weeks_csv(code: Code, session: SessionDep, _: AdminPrincipal) -> Response:
    r = await readiness.readiness(session, code)
    return csv_response(readiness_csv(r), f"market-{r.market}-weeks.csv")


def readiness_csv(r: readiness.Readiness) -> str:
    return views.to_csv(
        (
            "week_start",
            "reached",
            "viewers",
            "buyers",
            "repeat_buyers",
            "creators_active",
            "minutes_live",
            "orders",
            "gmv_minor",
            "return_rate_bp",
            "on_time_bp",
        ),
        (
            (
                w.local_start.date().isoformat(),
                w.reached,
                w.viewers,
                w.buyers,
                w.repeat_buyers,
                w.creators_active,
                w.minutes_live,
                w.orders,
                w.gmv_minor,
                w.return_rate_bp,
                w.on_time_bp,
            )
            for w in r.weeks
        ),
    )


@router.put("/markets/{code}/targets")
async def set_targets(
    code: Code, body: TargetsIn, session: SessionDep, principal: AdminPrincipal
) -> ReadinessOut:
    await readiness.set_targets(
        session,
        code,
        readiness.Targets(body.monthly_buyers, body.repeat_rate_bp, body.creators_per_week),
        actor_id=principal.user_id,
    )
    await session.commit()
    return ReadinessOut.of(await readiness.readiness(session, code))


@router.post("/impressions", status_code=204, response_class=Response)
async def impressions(
    body: ImpressionsIn, request: Request, session: SessionDep, principal: MaybePrincipal
) -> Response:
    """Show cards a page displayed (anyone; counted for the funnel's "reached" stage, in
    the node's capture buffer — no write here)."""
    capture: Capture = request.app.state.analytics
    if principal is not None:
        viewer = capture.key(user_id=principal.user_id)
    elif body.vid:
        viewer = capture.key(client_id=body.vid)
    else:
        return Response(status_code=204)
    for found in await live.sessions_by_ids(session, body.session_ids):
        capture.add(
            event_row(
                Kind.IMPRESSION,
                Facts(found.market_code, found.id, found.creator_id),
                viewer=viewer,
            )
        )
    return Response(status_code=204)
