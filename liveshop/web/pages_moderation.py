"""The moderation log page: what was moderated in the chats of the shows you run.

``/studio/moderation`` lists, newest first, every hide, unhide, mute and unmute in the
sessions the signed-in user may read (``chat.moderation_log.scope_of``: the creator's own
shows and the shows they moderate; every show for admins and platform moderators; a 403 page
for anyone else, the sign-in page for nobody signed in), filtered by show (``?session=``) and
action (``?action=``), 25 to a page. A bar chart shows when things were moderated: per few
minutes over the chosen show, else per day over the last two weeks. A hide whose comment is
still hidden has an Unhide button, a mute still in force an Unmute button; both go through
the same service functions and room announcements as the studio's own buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Form, Query, Request, Response
from markupsafe import Markup

from liveshop.accounts.deps import CurrentPrincipal, SessionDep
from liveshop.chat import moderation_log as log
from liveshop.chat.models import ModerationAction
from liveshop.chat.wiring import chat_caches
from liveshop.core.clock import utcnow
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id, Line
from liveshop.live import service as live
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.markets.service import list_markets
from liveshop.realtime.hub import Hub
from liveshop.web.charts import Bar, bar_chart
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.security import local_path
from liveshop.web.templating import render

router = page_router(prefix="/studio/moderation", tags=["pages"])

PAGE_SIZE = 25
DAYS = 14  # the chart over every show
MAX_BARS = 60
MIN_SPAN_MINUTES = 10  # a show's chart covers at least this much (no single wall of a bar)
BUCKET_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 1440)
HOME = "/studio/moderation"
# How the page names each action (the filter, the counters and the table).
ACTION_NAMES: dict[ModerationAction, str] = {
    ModerationAction.HIDE: "Hidden comments",
    ModerationAction.UNHIDE: "Unhidden comments",
    ModerationAction.MUTE: "Mutes",
    ModerationAction.UNMUTE: "Unmutes",
}


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _number(text: str, what: str) -> int | None:
    """A filter's value: empty means "all" (the form's first option)."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise Unprocessable(_("Pick a %(what)s from the list.", what=what), code="bad-filter")
    return int(text)


def _action(text: str) -> ModerationAction | None:
    text = text.strip()
    if not text:
        return None
    try:
        return ModerationAction(text)
    except ValueError as exc:
        raise Unprocessable(_("Pick an action from the list."), code="bad-filter") from exc


@dataclass(frozen=True, slots=True)
class Timeline:
    bars: list[Bar]
    bucket_minutes: int


def session_timeline(times: list[datetime], live_session: LiveSession, tz: ZoneInfo) -> Timeline:
    """Actions per bucket of minutes from the show's start to its end (a live show: its
    planned length, or until now if longer; at least ``MIN_SPAN_MINUTES``), with at most
    ``MAX_BARS`` bars, labelled with the market's clock."""
    start = live_session.actual_start or (times[0] if times else live_session.planned_start)
    if times:
        start = min(start, times[0])
    if live_session.actual_end is not None:
        end = live_session.actual_end
    elif live_session.status == SessionStatus.LIVE:  # the planned length, or longer
        planned = timedelta(minutes=live_session.planned_duration_minutes or 0)
        end = max(utcnow(), start + planned)
    else:
        end = times[-1] if times else start
    if times:
        end = max(end, times[-1])
    start = start.replace(second=0, microsecond=0)
    seconds = int((end - start).total_seconds())
    span = max(MIN_SPAN_MINUTES, -(-seconds // 60))
    size = next((b for b in BUCKET_MINUTES if -(-span // b) <= MAX_BARS), BUCKET_MINUTES[-1])
    n = max(1, -(-span // size))
    counts = [0] * n
    for t in times:
        i = int((t - start).total_seconds() // (size * 60))
        counts[min(max(i, 0), n - 1)] += 1
    bars = []
    for i, count in enumerate(counts):
        at = (start + timedelta(minutes=i * size)).astimezone(tz)
        until = at + timedelta(minutes=size)
        hint = f"{at:%H:%M}–{until:%H:%M}: {count} action{'' if count == 1 else 's'}"
        bars.append(Bar(at.strftime("%H:%M"), count, hint))
    return Timeline(bars, size)


def daily_timeline(times: list[datetime], today: datetime) -> list[Bar]:
    """Actions per UTC day over the last ``DAYS`` days."""
    first = (today - timedelta(days=DAYS - 1)).date()
    counts = [0] * DAYS
    for t in times:
        i = (t.astimezone(UTC).date() - first).days
        if 0 <= i < DAYS:
            counts[i] += 1
    days = [first + timedelta(days=i) for i in range(DAYS)]
    return [
        Bar(d.strftime("%d %b"), c, f"{d:%d %b}: {c} action{'' if c == 1 else 's'}")
        for d, c in zip(days, counts, strict=True)
    ]


def _per(minutes: int) -> str:
    """'minute', '5 minutes', 'hour', '2 hours'."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return "minute" if minutes == 1 else f"{minutes} minutes"


async def _chart(
    session: SessionDep,
    scope: log.Scope,
    filters: log.Filters,
    chosen: LiveSession | None,
    tz: ZoneInfo | None,
) -> tuple[str, Markup]:
    if chosen is not None and tz is not None:
        times = await log.entry_times(session, scope, filters)
        timeline = session_timeline(times, chosen, tz)
        title = f"Moderation actions per {_per(timeline.bucket_minutes)} during the show"
        bars = timeline.bars
        every = max(1, -(-len(bars) // 8))
    else:
        now = utcnow()
        since = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        times = await log.entry_times(session, scope, filters, since=since)
        title = f"Moderation actions per day, last {DAYS} days (UTC)"
        bars = daily_timeline(times, now)
        every = 2
    chart = bar_chart(bars, title=title, chart_id="moderation-timeline", label_every=every)
    return title, chart


@router.get("")
async def moderation_page(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    session_param: Annotated[Line, Query(alias="session", max_length=20)] = "",
    action_param: Annotated[Line, Query(alias="action", max_length=20)] = "",
    page: Annotated[FormCount, Query(ge=1, le=10_000)] = 1,
) -> Response:
    session_id = _number(session_param, "show")
    action = _action(action_param)
    chosen = None
    if session_id is not None:
        await log.readable_session(session, principal, session_id)  # 404 / 403 page
        chosen = await live.get_session(session, session_id)
    scope = await log.scope_of(session, principal)
    filters = log.Filters(
        session_id=session_id, actions=frozenset({action}) if action is not None else frozenset()
    )
    found = await log.list_entries(
        session, scope, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    choices = await log.sessions_in_scope(session, scope)
    if chosen is not None and all(c.id != chosen.id for c in choices):
        choices.insert(
            0,
            log.SessionChoice(
                chosen.id, chosen.title, chosen.creator_id, chosen.planned_start, chosen.status
            ),
        )
    markets = {m.code: m for m in await list_markets(session)}
    tz = ZoneInfo(markets[chosen.market_code].timezone) if chosen is not None else None
    chart_title, chart = await _chart(session, scope, filters, chosen, tz)
    query = "&".join(
        part
        for part in (
            f"session={session_id}" if session_id is not None else "",
            f"action={action}" if action is not None else "",
        )
        if part
    )
    context = {
        "title": f"Moderation log · {chosen.title}" if chosen is not None else "Moderation log",
        "chosen": chosen,
        "choices": choices,
        "action": action,
        "actions": ACTION_NAMES,
        "entries": found.entries,
        "counts": found.counts,
        "total": found.total,
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "pager_base": f"{HOME}?" + (f"{query}&" if query else ""),
        "timezones": {code: m.timezone for code, m in markets.items()},
        "chart": chart,
        "chart_title": chart_title,
        "Action": ModerationAction,
    }
    return await render(
        request,
        session,
        principal,
        "live/moderation.html",
        context,
        market=markets.get(chosen.market_code) if chosen is not None else None,
    )


@router.post("/{entry_id}/undo")
async def undo(
    entry_id: Id,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    back: Annotated[Line, Form(max_length=500)] = "",
) -> Response:
    """Unhide the entry's comment or lift its mute, then back to the log where it was."""
    entry = await log.get_entry(session, entry_id)
    done = await log.undo(
        session,
        principal,
        entry_id,
        room=_hub(request).publisher.on_commit(session),
        mutes=chat_caches(request.app).mutes,
    )
    name = entry.target_name or _("The viewer")
    if done.undid == ModerationAction.UNHIDE:
        text = _("%(name)s's comment is visible again.", name=name)
    else:
        text = _("%(name)s is no longer muted.", name=name)
    target = local_path(back, HOME)
    if not target.startswith(HOME):
        target = HOME
    return redirect(target, flash=("success", text))
