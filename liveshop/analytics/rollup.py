"""From raw events to rollups, day partitions ahead, and the retention.

``roll_up`` turns every whole minute older than ``lag_minutes`` into:

- ``analytics_minutes`` — per session and minute: distinct heartbeating viewers, watch
  seconds, joins, chat lines, product views, claims, checkouts, orders and GMV, refunds,
  pins and deals (``minute_aggregate``, the same SELECT the live tail is read with);
- ``analytics_session_viewers`` — per session and viewer: heartbeats, watch seconds, first
  and last minute (unique viewers and watch time outlive the raw events);
- ``analytics_viewer_days`` — per market, day and viewer: reached and watched.

A watermark (``analytics_rollup_state``) says which minutes are done; each is rolled up
exactly once, in one transaction with the watermark's move (``INSERT … SELECT … ON
CONFLICT`` on both databases: nothing goes through Python).

An event that arrives later than the lag (a node's buffer held back by a database outage, a
clock behind) still reaches the rollups: the capture writer hands the rows it writes that
are older than the lag to ``absorb_late`` in the same transaction, which takes the
watermark's lock (so no rollup runs meanwhile), re-rolls from the raw events the
(session, minute) rows those already rolled up touch, and adds their share to the per-viewer
rollups (sums, first and last minute: adding is exact there). A late event older than the
raw events' retention is left out of the per-minute rows (re-rolling would drop what was
purged).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    case,
    delete,
    distinct,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.analytics.capture import epoch_minute
from liveshop.analytics.models import (
    PARTITION_SCHEMA,
    Kind,
    MinuteRollup,
    RollupState,
    SessionViewer,
    ViewerDay,
    events_table,
)
from liveshop.core.clock import utcnow
from liveshop.core.db import table_of

E = events_table.c
STATE = "minutes"
CHUNK_MINUTES = 24 * 60  # at most a day per transaction


def _count(kind: Kind) -> Any:
    return func.sum(case((E.kind == str(kind), 1), else_=0))


def _amount(kind: Kind) -> Any:
    return func.sum(case((E.kind == str(kind), E.amount_minor), else_=0))


def minute_aggregate(*conditions: Any) -> Select[Any]:
    """Per (session, minute) of the raw events matching ``conditions``: the columns of
    ``analytics_minutes`` in its order."""
    hb = E.kind == str(Kind.HEARTBEAT)
    return (
        select(
            E.session_id,
            E.minute,
            func.max(E.market_code).label("market_code"),
            func.max(E.creator_id).label("creator_id"),
            func.count(distinct(case((hb, E.viewer), else_=None))).label("viewers"),
            _count(Kind.HEARTBEAT).label("heartbeats"),
            func.sum(case((hb, E.seconds), else_=0)).label("watch_seconds"),
            _count(Kind.JOIN).label("joins"),
            _count(Kind.COMMENT).label("comments"),
            _count(Kind.PRODUCT_VIEW).label("product_views"),
            _count(Kind.CLAIM).label("claims"),
            _count(Kind.CHECKOUT).label("checkouts"),
            _count(Kind.PAYMENT).label("orders"),
            _amount(Kind.PAYMENT).label("gmv_minor"),
            _count(Kind.REFUND).label("refunds"),
            _amount(Kind.REFUND).label("refunded_minor"),
            _count(Kind.PIN).label("pins"),
            _count(Kind.DEAL).label("deals"),
        )
        .where(E.session_id.is_not(None), *conditions)
        .group_by(E.session_id, E.minute)
    )


MINUTE_COLUMNS = (
    "session_id",
    "minute",
    "market_code",
    "creator_id",
    "viewers",
    "heartbeats",
    "watch_seconds",
    "joins",
    "comments",
    "product_views",
    "claims",
    "checkouts",
    "orders",
    "gmv_minor",
    "refunds",
    "refunded_minor",
    "pins",
    "deals",
)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _add(stmt: Any, keys: list[str], add: list[str], extra: dict[str, Any] | None = None) -> Any:
    ex = stmt.excluded
    table = stmt.table
    values = {c: table.c[c] + ex[c] for c in add}
    values.update(extra or {})
    return stmt.on_conflict_do_update(index_elements=keys, set_=values)


def _viewer_upsert(stmt: Any, viewers: Any) -> Any:
    t = viewers.c
    return _add(
        stmt,
        ["session_id", "viewer"],
        ["heartbeats", "watch_seconds"],
        {
            "first_minute": case(
                (stmt.excluded.first_minute < t.first_minute, stmt.excluded.first_minute),
                else_=t.first_minute,
            ),
            "last_minute": case(
                (stmt.excluded.last_minute > t.last_minute, stmt.excluded.last_minute),
                else_=t.last_minute,
            ),
        },
    )


async def _roll_range(session: AsyncSession, start: int, end: int) -> None:
    window = (E.minute >= start, E.minute < end)
    minutes = table_of(MinuteRollup)
    stmt = _insert(session, minutes).from_select(
        list(MINUTE_COLUMNS), minute_aggregate(*window).where(true())
    )
    await session.execute(_add(stmt, ["session_id", "minute"], [c for c in MINUTE_COLUMNS[4:]]))
    viewers = table_of(SessionViewer)
    hb = E.kind == str(Kind.HEARTBEAT)
    pick = (
        select(
            E.session_id,
            E.viewer,
            func.count().label("heartbeats"),
            func.sum(E.seconds).label("watch_seconds"),
            func.min(E.minute).label("first_minute"),
            func.max(E.minute).label("last_minute"),
        )
        .where(hb, E.session_id.is_not(None), E.viewer.is_not(None), *window)
        .group_by(E.session_id, E.viewer)
    )
    stmt = _insert(session, viewers).from_select(
        ["session_id", "viewer", "heartbeats", "watch_seconds", "first_minute", "last_minute"],
        pick,
    )
    await session.execute(_viewer_upsert(stmt, viewers))
    days = table_of(ViewerDay)
    day = (E.minute // 1440).label("day")
    pick = (
        select(
            E.market_code,
            day,
            E.viewer,
            _count(Kind.IMPRESSION).label("impressions"),
            _count(Kind.JOIN).label("joins"),
            _count(Kind.HEARTBEAT).label("heartbeats"),
            func.sum(case((hb, E.seconds), else_=0)).label("watch_seconds"),
        )
        .where(
            E.market_code.is_not(None),
            E.viewer.is_not(None),
            E.kind.in_([str(Kind.IMPRESSION), str(Kind.JOIN), str(Kind.HEARTBEAT)]),
            *window,
        )
        .group_by(E.market_code, day, E.viewer)
    )
    stmt = _insert(session, days).from_select(
        ["market_code", "day", "viewer", "impressions", "joins", "heartbeats", "watch_seconds"],
        pick,
    )
    await session.execute(
        _add(
            stmt,
            ["market_code", "day", "viewer"],
            ["impressions", "joins", "heartbeats", "watch_seconds"],
        )
    )


async def done_minute(session: AsyncSession) -> int | None:
    return await session.scalar(select(RollupState.done_minute).where(RollupState.name == STATE))


async def roll_up(
    session: AsyncSession, *, lag_minutes: int = 2, until_minute: int | None = None
) -> int:
    """Roll up the whole minutes not yet done, up to ``until_minute`` (default: now less the
    lag); commits once per day of events. Returns how many minutes were rolled up."""
    until = until_minute if until_minute is not None else epoch_minute(utcnow()) - lag_minutes
    rolled = 0
    while True:
        query = select(RollupState).where(RollupState.name == STATE)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        state = await session.scalar(query)
        if state is None:
            first = await session.scalar(select(func.min(E.minute)))
            if first is None:
                await session.rollback()
                return rolled
            state = RollupState(name=STATE, done_minute=first, updated_at=utcnow())
            session.add(state)
            await session.flush()
        start = state.done_minute
        if start >= until:
            await session.commit()
            return rolled
        # Skip an empty stretch in one step (a quiet night is not 1,440 empty queries).
        nxt = await session.scalar(select(func.min(E.minute)).where(E.minute >= start))
        if nxt is None or nxt >= until:
            state.done_minute = until
            state.updated_at = utcnow()
            await session.commit()
            return rolled + (until - start)
        start = max(start, nxt)
        end = min(start + CHUNK_MINUTES, until)
        await _roll_range(session, start, end)
        rolled += end - state.done_minute
        state.done_minute = end
        state.updated_at = utcnow()
        await session.commit()


async def absorb_late(
    session: AsyncSession, rows: list[dict[str, Any]], *, retention_days: int = 30
) -> int:
    """Bring ``rows`` (just inserted in this transaction) into the rollups if their minutes
    are already rolled up (see the module docstring). Returns how many were late."""
    query = select(RollupState.done_minute).where(RollupState.name == STATE)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    done = await session.scalar(query)
    late = [r for r in rows if done is not None and r["minute"] < done]
    if not late:
        return 0
    kept = (epoch_minute(utcnow()) // 1440 - retention_days) * 1440
    pairs = sorted({(r["session_id"], r["minute"]) for r in late if r["session_id"] is not None})
    pairs = [(sid, m) for sid, m in pairs if m >= kept]
    minutes = table_of(MinuteRollup)
    for i in range(0, len(pairs), 200):
        chunk = pairs[i : i + 200]
        await session.execute(
            delete(minutes).where(
                or_(*(and_(minutes.c.session_id == s, minutes.c.minute == m) for s, m in chunk))
            )
        )
        picked = minute_aggregate(or_(*(and_(E.session_id == s, E.minute == m) for s, m in chunk)))
        await session.execute(_insert(session, minutes).from_select(list(MINUTE_COLUMNS), picked))
    beats: dict[tuple[int, str], list[int]] = {}
    days: dict[tuple[str, int, str], list[int]] = {}
    reach = {str(Kind.IMPRESSION): 0, str(Kind.JOIN): 1, str(Kind.HEARTBEAT): 2}
    for r in late:
        hb = r["kind"] == str(Kind.HEARTBEAT)
        viewer, seconds, minute = r["viewer"], int(r.get("seconds") or 0), r["minute"]
        if viewer is None:
            continue
        if hb and r["session_id"] is not None:
            b = beats.setdefault((r["session_id"], viewer), [0, 0, minute, minute])
            b[0], b[1] = b[0] + 1, b[1] + seconds
            b[2], b[3] = min(b[2], minute), max(b[3], minute)
        if r["kind"] in reach and r["market_code"] is not None:
            d = days.setdefault((r["market_code"], minute // 1440, viewer), [0, 0, 0, 0])
            d[reach[r["kind"]]] += 1
            d[3] += seconds if hb else 0
    if beats:
        viewers = table_of(SessionViewer)
        stmt = _insert(session, viewers).values(
            [
                {
                    "session_id": sid,
                    "viewer": v,
                    "heartbeats": n,
                    "watch_seconds": sec,
                    "first_minute": first,
                    "last_minute": last,
                }
                for (sid, v), (n, sec, first, last) in beats.items()
            ]
        )
        await session.execute(_viewer_upsert(stmt, viewers))
    if days:
        table = table_of(ViewerDay)
        stmt = _insert(session, table).values(
            [
                {
                    "market_code": market,
                    "day": day,
                    "viewer": v,
                    "impressions": imp,
                    "joins": joins,
                    "heartbeats": n,
                    "watch_seconds": sec,
                }
                for (market, day, v), (imp, joins, n, sec) in days.items()
            ]
        )
        await session.execute(
            _add(
                stmt,
                ["market_code", "day", "viewer"],
                ["impressions", "joins", "heartbeats", "watch_seconds"],
            )
        )
    return len(late)


# --- partitions (PostgreSQL) and retention ------------------------------------------------


def _day(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def partition_name(day: datetime) -> str:
    return f"analytics_events_{day:%Y%m%d}"


async def ensure_partitions(session: AsyncSession, start: datetime, end: datetime) -> int:
    """PostgreSQL: a partition for every day from ``start``'s to ``end``'s (inclusive) that
    has none (a day whose rows already sit in the DEFAULT partition keeps them there).
    Returns how many were created; nothing on SQLite. Commits."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    existing = set(
        (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                {"s": PARTITION_SCHEMA},
            )
        ).scalars()
    )
    made = 0
    day = _day(start)
    while day <= _day(end):
        name = partition_name(day)
        if name not in existing:
            nxt = day + timedelta(days=1)
            busy = await session.scalar(
                text(
                    f"SELECT EXISTS (SELECT 1 FROM {PARTITION_SCHEMA}.analytics_events_default"
                    " WHERE at >= :a AND at < :b)"
                ),
                {"a": day, "b": nxt},
            )
            if not busy:
                await session.execute(
                    text(
                        f"CREATE TABLE IF NOT EXISTS {PARTITION_SCHEMA}.{name} PARTITION OF"
                        f" analytics_events FOR VALUES FROM ('{day.isoformat()}')"
                        f" TO ('{nxt.isoformat()}')"
                    )
                )
                made += 1
        day += timedelta(days=1)
    await session.commit()
    return made


async def purge(session: AsyncSession, *, retention_days: int) -> int:
    """Drop raw events older than the retention (whole day partitions on PostgreSQL), but
    never a minute not yet rolled up. Returns how many day partitions were dropped (0 on
    SQLite, where the rows are deleted). Commits."""
    cutoff = _day(utcnow() - timedelta(days=retention_days))
    done = await done_minute(session)
    if done is None:
        await session.rollback()
        return 0
    cutoff = min(cutoff, _day(datetime.fromtimestamp(done * 60, UTC)))
    dropped = 0
    if session.get_bind().dialect.name == "postgresql":
        names = (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                {"s": PARTITION_SCHEMA},
            )
        ).scalars()
        for name in sorted(names):
            stamp = name.removeprefix("analytics_events_")
            if not stamp.isdigit():
                continue
            if datetime.strptime(stamp, "%Y%m%d").replace(tzinfo=UTC) + timedelta(days=1) <= cutoff:
                await session.execute(text(f"DROP TABLE {PARTITION_SCHEMA}.{name}"))
                dropped += 1
    await session.execute(delete(events_table).where(E.at < cutoff))
    await session.commit()
    return dropped
