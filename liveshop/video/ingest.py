"""What the media server's callbacks change in the database (one transaction each).

- ``begin_publish``: a valid key → the creator's current session; it goes live (if it
  was scheduled) and its video row says "receiving", with the public folder name the
  stream is renamed to.
- ``end_publish``: the encoder left → "reconnecting" from now (the grace period).
- ``end_after_grace``: still reconnecting once the grace period is over → the session ends.

A session that goes live or ends here does so through ``live.transition``: given the room's
``AfterCommit`` (``room=``), its ``session_started``/``session_ended`` goes out with that
commit. The runtime side (the ``video`` room events, timers, recording) is ``manager.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden
from liveshop.core.i18n import gettext as _
from liveshop.live import service as live
from liveshop.live.models import OPEN_STATUSES, LiveSession, SessionStatus
from liveshop.realtime.publish import AfterCommit
from liveshop.video.hls import new_folder_name
from liveshop.video.models import StreamState, VideoStream
from liveshop.video.service import key_by_secret


@dataclass(frozen=True, slots=True)
class PublishStart:
    stream: VideoStream
    session: LiveSession
    went_live: bool  # the session was scheduled and this publish started it
    first: bool  # the first video of this session


async def open_sessions_of(session: AsyncSession, creator_id: int) -> Sequence[LiveSession]:
    """The creator's scheduled and live sessions.

    TEMPORARY: reads the live domain's table because ``liveshop.live.service`` has no
    "open sessions of a creator" function yet; replace with that call when it exists.
    """
    rows = await session.scalars(
        select(LiveSession).where(
            LiveSession.creator_id == creator_id,
            LiveSession.status.in_([str(s) for s in OPEN_STATUSES]),
        )
    )
    return rows.all()


def pick_session(candidates: Sequence[LiveSession], now: datetime) -> LiveSession | None:
    """The session a stream key goes live into: the live one (latest start) if any, else
    the scheduled one planned nearest to now."""
    live_now = [s for s in candidates if s.status == SessionStatus.LIVE]
    if live_now:
        return max(live_now, key=lambda s: (s.actual_start or s.planned_start, s.id))
    scheduled = [s for s in candidates if s.status == SessionStatus.SCHEDULED]
    if not scheduled:
        return None
    return min(scheduled, key=lambda s: (abs((s.planned_start - now).total_seconds()), s.id))


async def begin_publish(
    session: AsyncSession, *, key: str, client_id: str, room: AfterCommit | None = None
) -> PublishStart:
    """Validate the key and start (or resume) the session's video. Commits. A scheduled
    session goes live in a commit of its own first (``live.transition``): given ``room``,
    its ``session_started`` goes out with that commit.

    Refuses (403) unknown or revoked keys and creators with nothing to stream into; 409
    while another encoder is publishing into the same session.
    """
    key_row = await key_by_secret(session, key)
    if key_row is None:
        raise Forbidden(_("unknown or revoked stream key"), code="stream-key-invalid")
    now = utcnow()
    target = pick_session(await open_sessions_of(session, key_row.creator_id), now)
    if target is None:
        raise Forbidden(_("schedule a live session before streaming"), code="no-session-to-stream")
    stream = await session.get(VideoStream, target.id)
    if (
        stream is not None
        and stream.state == StreamState.RECEIVING
        and stream.client_id not in (None, client_id)
    ):
        raise Conflict(
            _("another encoder is streaming into this session"),
            code="already-receiving",
            session_id=target.id,
        )
    went_live = False
    if target.status == SessionStatus.SCHEDULED:
        target = await live.transition(session, target, SessionStatus.LIVE, room=room)
        went_live = True
    first = stream is None or stream.video_started_at is None
    if stream is None:
        stream = VideoStream(
            session_id=target.id, creator_id=target.creator_id, folder=new_folder_name(target.id)
        )
        session.add(stream)
    stream.key_id = key_row.id
    stream.state = StreamState.RECEIVING
    stream.client_id = client_id
    stream.publish_started_at = now
    stream.video_started_at = stream.video_started_at or now
    stream.stopped_at = None
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(_("the stream changed meanwhile; retry"), code="already-receiving") from exc
    return PublishStart(stream, target, went_live, first)


async def end_publish(session: AsyncSession, *, key: str, client_id: str) -> VideoStream | None:
    """The publisher ``client_id`` stopped: reconnecting from now. Commits.

    Matched by the key the stream went live with (even if rotated since) AND the media
    server's client id, so a refused second encoder's "done" never stops the first.
    None when nothing matches (already handled, or not ours).
    """
    key_row = await key_by_secret(session, key, include_revoked=True)
    if key_row is None:
        await session.rollback()
        return None
    stream: VideoStream | None = await session.scalar(
        select(VideoStream).where(
            VideoStream.key_id == key_row.id,
            VideoStream.client_id == client_id,
            VideoStream.state == StreamState.RECEIVING,
        )
    )
    if stream is None:
        await session.rollback()
        return None
    stop_receiving(stream, utcnow())
    await session.commit()
    return stream


def stop_receiving(stream: VideoStream, now: datetime) -> None:
    started = stream.publish_started_at or now
    stream.media_ms_before += max(0, round((now - started).total_seconds() * 1000))
    stream.state = StreamState.RECONNECTING
    stream.client_id = None
    stream.stopped_at = now


async def streams_in(session: AsyncSession, *states: StreamState) -> Sequence[VideoStream]:
    rows = await session.scalars(
        select(VideoStream).where(VideoStream.state.in_([str(s) for s in states]))
    )
    return rows.all()


def grace_left(stream: VideoStream, grace_s: float, now: datetime) -> float:
    if stream.stopped_at is None:
        return grace_s
    return (stream.stopped_at + timedelta(seconds=grace_s) - now).total_seconds()


class Grace(StrEnum):
    WAIT = "wait"  # the video is back, or the grace period is not over: nothing to do
    ENDED = "ended"  # the grace period is over: the session was ended just now
    OVER = "over"  # the session was already over (ended elsewhere): just finish the video


async def end_after_grace(
    session: AsyncSession, session_id: int, grace_s: float, *, room: AfterCommit | None = None
) -> tuple[Grace, LiveSession | None]:
    """End the session if its video is still gone after the grace period. Commits; given
    ``room``, the ``session_ended`` goes out with the commit.

    Returns what happened and, for ``ENDED``, the ended session.
    """
    stream = await session.get(VideoStream, session_id)
    if (
        stream is None
        or stream.state != StreamState.RECONNECTING
        or grace_left(stream, grace_s, utcnow()) > 0
    ):
        await session.rollback()
        return Grace.WAIT, None
    target = await live.get_session(session, session_id)
    if target.status != SessionStatus.LIVE:
        await session.rollback()
        return Grace.OVER, None
    return Grace.ENDED, await live.transition(session, target, SessionStatus.ENDED, room=room)


async def mark_finished(
    session: AsyncSession, session_id: int, *, duration_ms: int, replay_ready: bool
) -> None:
    """The session is over and its recording is final. Commits."""
    stream = await session.get(VideoStream, session_id)
    if stream is None:
        await session.rollback()
        return
    if stream.state == StreamState.RECEIVING:
        stop_receiving(stream, utcnow())
    stream.state = StreamState.ENDED
    stream.client_id = None
    stream.duration_ms = duration_ms
    stream.replay_ready = replay_ready
    await session.commit()
