"""The rollups equal the same questions asked of the raw events; the retention drops old
days (whole partitions on PostgreSQL) and never what is not rolled up yet."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from liveshop.analytics import queries, rollup
from liveshop.analytics.capture import Capture, Facts, epoch_minute, event_row
from liveshop.analytics.models import Kind, SessionViewer, ViewerDay, events_table
from liveshop.core.clock import utcnow
from liveshop.core.db import Database

KINDS = [Kind.HEARTBEAT] * 6 + [
    Kind.JOIN,
    Kind.IMPRESSION,
    Kind.COMMENT,
    Kind.PAYMENT,
    Kind.REFUND,
    Kind.CLAIM,
    Kind.PIN,
]


def _history(seed: int, start: datetime) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(1500):
        sid = rng.choice([1, 2, 3])
        kind = rng.choice(KINDS)
        at = start + timedelta(seconds=rng.randrange(0, 45 * 60))
        rows.append(
            event_row(
                kind,
                Facts("GB" if sid != 3 else "DE", sid, 10 + sid, 5),
                at=at,
                viewer=f"v{rng.randrange(40)}",
                amount_minor=rng.randrange(100, 5000) if kind in (Kind.PAYMENT, Kind.REFUND) else 0,
                seconds=15 if kind is Kind.HEARTBEAT else 0,
            )
        )
    return rows


async def test_rollups_equal_raw_event_queries(db: Database) -> None:
    start = utcnow().replace(second=0, microsecond=0) - timedelta(hours=2)
    capture = Capture(db, "secret")
    capture.add_many(_history(7, start))
    assert await capture.flush() == 1500
    end = epoch_minute(start) + 46
    async with db.session() as s:
        # in two runs: the watermark carries on where the first stopped
        await rollup.roll_up(s, until_minute=epoch_minute(start) + 20)
        assert await rollup.done_minute(s) == epoch_minute(start) + 20
        await rollup.roll_up(s, until_minute=end)
        assert await rollup.done_minute(s) == end
    await _assert_rollups_match_raw(db)


async def test_late_events_still_reach_the_rollup(db: Database) -> None:
    """Events written after the rollup passed their minutes (a node's buffer held back)
    are brought in by the writer: the rollups still equal the raw events."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
    capture = Capture(db, "secret", late_hook=rollup.absorb_late)
    rows = _history(3, start)
    capture.add_many(rows[:1000])
    await capture.flush()
    async with db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(start) + 46)
    assert capture.late == 0
    capture.add_many(rows[1000:])
    await capture.flush()
    assert capture.late == 500
    await _assert_rollups_match_raw(db)


async def _assert_rollups_match_raw(db: Database) -> None:
    async with db.session(deferred=True) as s:
        for sid in (1, 2, 3):
            rolled = await queries.minute_series(s, sid)
            raw = await queries.raw_minute_series(s, sid)
            assert rolled == raw and len(raw) > 20
            assert sum(m.viewers for m in raw) > 0
        # unique viewers and watch time per session
        e = events_table.c
        hb = e.kind == str(Kind.HEARTBEAT)
        raw_viewers = (
            await s.execute(
                select(e.session_id, e.viewer, func.count(), func.sum(e.seconds))
                .where(hb)
                .group_by(e.session_id, e.viewer)
            )
        ).all()
        kept = (
            await s.execute(
                select(
                    SessionViewer.session_id,
                    SessionViewer.viewer,
                    SessionViewer.heartbeats,
                    SessionViewer.watch_seconds,
                )
            )
        ).all()
        assert sorted(map(tuple, kept)) == sorted(map(tuple, raw_viewers))
        # the funnel's days: reached and watched per market and viewer
        days: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for market, minute, viewer, kind in (
            await s.execute(select(e.market_code, e.minute, e.viewer, e.kind))
        ).all():
            slot = {"impression": 0, "join": 1, "hb": 2}.get(kind)
            if slot is not None:
                days[(market, minute // 1440, viewer)][slot] += 1
        stored = {
            (d.market_code, d.day, d.viewer): [d.impressions, d.joins, d.heartbeats]
            for d in (await s.scalars(select(ViewerDay))).all()
        }
        assert stored == dict(days)
        live = await queries.unique_viewers(s, 1)
        assert live == len({v for sid, v, _n, _w in raw_viewers if sid == 1})


async def test_the_live_tail_is_read_from_raw_events_until_rolled_up(db: Database) -> None:
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=30)
    capture = Capture(db, "secret")
    capture.add_many(_history(3, start))
    await capture.flush()
    async with db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(start) + 10)  # part rolled up
    async with db.session(deferred=True) as s:
        assert await queries.minute_series(s, 2) == await queries.raw_minute_series(s, 2)


async def test_retention_drops_old_days_but_keeps_the_rollups(db: Database) -> None:
    now = utcnow()
    old = now - timedelta(days=40)
    async with db.session() as s:
        await rollup.ensure_partitions(s, old, old)
    capture = Capture(db, "secret")
    for at in (old, now - timedelta(minutes=10)):
        capture.add(event_row(Kind.HEARTBEAT, Facts("GB", 9, 1), at=at, viewer="v1", seconds=15))
    await capture.flush()
    async with db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(now) - 5)
        dropped = await rollup.purge(s, retention_days=30)
    async with db.session(deferred=True) as s:
        left = (await s.execute(select(events_table.c.at))).scalars().all()
        assert [a for a in left if a < now - timedelta(days=30)] == []
        assert len(left) == 1
        viewer = await s.get(SessionViewer, (9, "v1"))
        assert viewer is not None and viewer.heartbeats == 2 and viewer.watch_seconds == 30
        if db.dialect == "postgresql":
            assert dropped == 1
            names = (
                await s.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'analytics_parts'")
                )
            ).scalars()
            assert f"analytics_events_{old:%Y%m%d}" not in set(names)


async def test_a_day_without_a_partition_lands_in_the_default_one(db: Database) -> None:
    """An insert never fails for want of a partition (PostgreSQL); SQLite has a plain table."""
    far = datetime(2031, 3, 4, 12, tzinfo=UTC)
    capture = Capture(db, "secret")
    capture.add(event_row(Kind.JOIN, Facts("GB", 1, 1), at=far, viewer="x"))
    assert await capture.flush() == 1
    async with db.session(deferred=True) as s:
        assert await s.scalar(select(func.count()).select_from(events_table)) == 1
