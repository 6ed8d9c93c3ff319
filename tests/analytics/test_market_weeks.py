"""Readiness weeks are the market's own: Monday 00:00 on its clock, not in UTC — from the raw
events and from the per-UTC-day rollups alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from liveshop.analytics import readiness, rollup
from liveshop.analytics.capture import Capture, Facts, epoch_minute, event_row
from liveshop.analytics.models import Kind
from liveshop.core.clock import utcnow
from liveshop.core.db import Database


def test_weeks_begin_at_monday_midnight_in_the_market() -> None:
    at = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # Sunday 18:00 UTC: Monday 01:00 in Hanoi
    assert readiness.week_start(at, "Asia/Ho_Chi_Minh") == datetime(2026, 11, 29, 17, tzinfo=UTC)
    assert readiness.week_start(at) == datetime(2026, 11, 23, tzinfo=UTC)
    assert readiness.week_start(at, "Asia/Ho_Chi_Minh", weeks_back=1) == datetime(
        2026, 11, 22, 17, tzinfo=UTC
    )
    # London's clocks go back on 25 October 2026: that week lasts 169 hours.
    start = readiness.week_start(datetime(2026, 10, 22, tzinfo=UTC), "Europe/London")
    assert start == datetime(2026, 10, 18, 23, tzinfo=UTC)
    assert readiness.week_end(start, "Europe/London") - start == timedelta(hours=169)


async def test_viewers_count_in_the_markets_week_raw_and_rolled_up(db: Database) -> None:
    hanoi = "Asia/Ho_Chi_Minh"  # UTC+7: Monday 00:00 there is Sunday 17:00 UTC
    week = readiness.week_start(utcnow(), hanoi, weeks_back=1)
    end = readiness.week_end(week, hanoi)
    capture = Capture(db, "secret")
    seen = {
        "b": week - timedelta(hours=1),  # Sunday 23:00 in Hanoi: the week before
        "a": week + timedelta(hours=1),  # Monday 01:00 there (still Sunday in UTC)
        "c": week + timedelta(days=3),  # a whole UTC day inside the week
        "d": end - timedelta(minutes=30),  # Sunday 23:30 there: still this week
        "e": end + timedelta(minutes=30),  # Monday 00:30 there: the next week
    }
    capture.add_many(
        [
            event_row(Kind.HEARTBEAT, Facts("VN", 1, 2), at=at, viewer=v, seconds=15)
            for v, at in seen.items()
        ]
    )
    await capture.flush()
    now = max(utcnow(), end + timedelta(hours=1))

    async def viewers() -> list[tuple[datetime, int]]:
        async with db.session() as s:
            weeks = await readiness.weekly_funnel(s, "VN", weeks=3, now=now)
            await s.rollback()
        return [(w.local_start, w.viewers) for w in weeks]

    local = week.astimezone(ZoneInfo(hanoi))
    assert (local.weekday(), local.hour) == (0, 0)
    expected = [(local - timedelta(days=7), 1), (local, 3), (local + timedelta(days=7), 1)]
    assert await viewers() == expected  # from the raw events
    async with db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(now))
    assert await viewers() == expected  # whole UTC days from the rollup, the ends from raw
