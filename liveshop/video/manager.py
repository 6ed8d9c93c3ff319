"""The video runtime of one app: provider, per-stream recording, grace timers, room events.

Started and stopped by the app's lifespan (``wiring.py``). Everything durable is in the
database (``ingest.py``); what lives here is rebuilt at start (``recover``): streams that
were receiving when the media server (re)started have lost their encoder and reconnect,
grace periods resume where they were, sessions that ended meanwhile get their replay.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Forbidden, NotFound
from liveshop.core.events import EventType, now_ms
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import Settings
from liveshop.core.tasks import stop_if_cancelled
from liveshop.live import service as live_service
from liveshop.live.models import SessionStatus
from liveshop.realtime.hub import Hub
from liveshop.video import ingest
from liveshop.video.health import HealthReader
from liveshop.video.hls import POSTER, Recording
from liveshop.video.models import StreamState, TimelineKind, VideoStream
from liveshop.video.provider import EmbeddedProvider, VideoProvider, make_provider
from liveshop.video.service import key_prefix
from liveshop.video.simulcast import (
    Relay,
    clear_expired,
    destinations_of,
    relays_for,
    save_status,
)
from liveshop.video.thumbnails import capture_poster, ffmpeg_missing
from liveshop.video.timeline import AT, TimelineRecorder, VideoClock, add_entry, realign

log = structlog.get_logger("liveshop.video")

POLL_S = 1.0  # rolling playlist → recording (it holds ~10 s, so nothing is missed)
POSTER_FIRST_SEGMENTS = 2  # first poster once this many segments exist (a few seconds in)
POSTER_REFRESH_S = 60.0


@dataclass
class StreamRuntime:
    session_id: int
    folder: str
    clock: VideoClock
    recording: Recording | None = None
    recorder: TimelineRecorder | None = None
    poller: asyncio.Task[None] | None = None
    poster_at: float = 0.0
    receiving: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class VideoManager:
    def __init__(self, app: FastAPI, settings: Settings, db: Database) -> None:
        self.app = app
        self.settings = settings
        self.db = db
        self.grace_s = settings.video_grace_seconds
        self.provider: VideoProvider = make_provider(settings, on_media_exit=self._media_exited)
        self.runtimes: dict[int, StreamRuntime] = {}
        self.folders: dict[int, str] = {}
        self._timers: dict[int, asyncio.Task[None]] = {}
        self._chores: set[asyncio.Task[Any]] = set()
        self._finalized: set[int] = set()
        self._ffmpeg = not ffmpeg_missing()
        self.health = HealthReader()  # the studio's stream health (newest segment, probed)
        self.relays: dict[int, list[Relay]] = {}  # session id → its simulcast relays

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        await self._clear_dead_relays()
        await self.provider.start()
        if not self.provider.ingest:
            return
        embedded = isinstance(self.provider, EmbeddedProvider)
        if isinstance(self.provider, EmbeddedProvider) and self.provider.server is None:
            return  # another process of this app runs the media server, and recovers
        try:
            # Our nginx just started: whoever was publishing to the old one is gone.
            await self.recover(encoders_lost=embedded)
        except Exception:
            log.exception("video: recovering streams failed")

    async def _clear_dead_relays(self) -> None:
        """Relay statuses left by a process that died mid-relay, past their lease: cleared
        (they already read as stopped; see ``simulcast``)."""
        try:
            async with self.db.session() as s:
                cleared = await clear_expired(s, utcnow())
        except Exception:
            log.exception("video: clearing dead relays' statuses failed")
            return
        if cleared:
            log.info("video: cleared dead relays' statuses", destinations=cleared)

    async def stop(self) -> None:
        for task in [*self._timers.values(), *self._chores]:
            task.cancel()
        for task in [*self._timers.values(), *self._chores]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._timers.clear()
        for sid in list(self.relays):
            await self.stop_relays(sid)
        for rt in list(self.runtimes.values()):
            await self._stop_runtime(rt)
        self.runtimes.clear()
        await self.provider.stop()

    async def recover(self, *, encoders_lost: bool) -> None:
        """Pick up streams a previous run left open (see the module docstring)."""
        async with self.db.session() as s:
            open_streams = await ingest.streams_in(
                s, StreamState.RECEIVING, StreamState.RECONNECTING
            )
            now = utcnow()
            lost = []
            for stream in open_streams:
                if stream.state == StreamState.RECEIVING and encoders_lost:
                    ingest.stop_receiving(stream, now)
                    lost.append(stream.session_id)
            await s.commit()
            streams = [(st.session_id, st.folder, st.state) for st in open_streams]
            clocks = {st.session_id: VideoClock.of(st) for st in open_streams}
            stopped = {st.session_id: st.stopped_at for st in open_streams}
        for session_id, folder, state in streams:
            self.folders[session_id] = folder
            rt = await self._runtime(session_id, folder, clocks[session_id])
            rt.receiving = state == StreamState.RECEIVING
            at = stopped[session_id]
            left = self.grace_s - (now - at).total_seconds() if at is not None else self.grace_s
            if state == StreamState.RECONNECTING:
                self._schedule_end(session_id, max(0.0, left))
        if lost:
            log.info("video: streams lost their encoder while the app was down", sessions=lost)

    # --- runtime per stream -----------------------------------------------------------

    async def _runtime(self, session_id: int, folder: str, clock: VideoClock) -> StreamRuntime:
        rt = self.runtimes.get(session_id)
        if rt is not None:
            return rt
        rt = StreamRuntime(session_id, folder, clock)
        if self.provider.local_dir is not None:
            rt.recording = Recording(self.provider.local_dir / folder)
        rt.recorder = TimelineRecorder(
            self.db,
            self.hub.broker,
            session_id,
            clock,
            on_session_closed=self._session_closed_elsewhere,
        )
        await rt.recorder.start()
        rt.poller = asyncio.get_running_loop().create_task(self._poll(rt))
        self.runtimes[session_id] = rt
        return rt

    async def _stop_runtime(self, rt: StreamRuntime) -> None:
        if rt.poller is not None:
            rt.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await rt.poller
        if rt.recorder is not None:
            await rt.recorder.stop()

    async def _poll(self, rt: StreamRuntime) -> None:
        """While receiving: take new segments into the recording; keep the poster fresh."""
        while True:
            await asyncio.sleep(POLL_S)
            if not rt.receiving:
                continue
            try:
                if rt.recording is not None:
                    rt.recording.poll()
                await self._maybe_poster(rt)
            except Exception:
                stop_if_cancelled()
                log.exception("video: recording poll failed", session_id=rt.session_id)

    async def _maybe_poster(self, rt: StreamRuntime, *, force: bool = False) -> None:
        if not self._ffmpeg:
            return
        loop_now = asyncio.get_running_loop().time()
        if not force and rt.poster_at and loop_now - rt.poster_at < POSTER_REFRESH_S:
            return
        source: str | Path | None
        if rt.recording is not None:
            if len(rt.recording.segments) < POSTER_FIRST_SEGMENTS and not force:
                return
            source = rt.recording.newest()
            target_dir = rt.recording.folder
        else:
            source = self.provider.poster_source(rt.session_id, rt.folder)
            target_dir = self.settings.video_dir.resolve() / "posters" / rt.folder
            target_dir.mkdir(parents=True, exist_ok=True)
        if source is None:
            return
        rt.poster_at = loop_now
        await capture_poster(source, target_dir / POSTER)

    def poster_path(self, session_id: int, folder: str) -> Path:
        if self.provider.local_dir is not None:
            return self.provider.local_dir / folder / POSTER
        return self.settings.video_dir.resolve() / "posters" / folder / POSTER

    # --- callbacks from the media server ----------------------------------------------

    async def on_publish(self, session: AsyncSession, *, key: str, client_id: str) -> str:
        """A valid publish: returns the public stream name nginx renames the stream to.

        Raises Forbidden/Conflict (the router answers 403/409: nginx refuses)."""
        if not self.provider.ingest:
            raise Forbidden(_("video ingest is off"), code="video-off")
        room = self.hub.publisher.on_commit(session)  # session_started, if it goes live now
        start = await ingest.begin_publish(session, key=key, client_id=client_id, room=room)
        sid, stream = start.session.id, start.stream
        self.folders[sid] = stream.folder
        self._finalized.discard(sid)
        self._cancel_end(sid)
        at_ms = now_ms()
        rt = await self._runtime(sid, stream.folder, VideoClock())
        async with rt.lock:
            rt.clock.started(at_ms)
            rt.receiving = True
            if rt.recording is not None:
                rt.recording.new_publish()
        if start.first and start.session.pinned_product_id is not None:
            pinned = await live_service.pinned_product(session, start.session)
            if pinned is not None:
                payload = {
                    "product_id": pinned.product_id,
                    "title": pinned.title,
                    "image_url": pinned.image_url,
                    AT: round(at_ms),
                }
                await add_entry(session, sid, 0, TimelineKind.PIN, payload)
            await session.commit()
        log.info(
            "video: receiving",
            session_id=sid,
            key=key_prefix(key),
            went_live=start.went_live,
            stream=stream.folder,
        )
        await self.start_relays(session, sid, stream.creator_id, stream.folder)
        payload = self._video_event(sid, stream.folder)
        await self.hub.publisher.publish(sid, EventType.VIDEO, payload)
        return stream.folder

    # --- simulcast ----------------------------------------------------------------------

    async def start_relays(
        self, session: AsyncSession, session_id: int, creator_id: int, folder: str
    ) -> None:
        """Relay the stream to each of the creator's destinations (embedded ingest only)."""
        await self.stop_relays(session_id)
        if not isinstance(self.provider, EmbeddedProvider):
            return
        rows = await destinations_of(session, creator_id)
        if not rows:
            return
        c = self.provider.config
        source = f"rtmp://{c.push_host}:{c.rtmp_port}/hls/{folder}"
        relays = relays_for(self.settings, rows, source=source, on_change=self._save_relay)
        for relay in relays:
            relay.start()
        self.relays[session_id] = relays

    async def stop_relays(self, session_id: int) -> None:
        for relay in self.relays.pop(session_id, []):
            await relay.stop()

    async def _save_relay(self, dest_id: int, status: dict[str, Any] | None) -> None:
        async with self.db.session() as s:
            await save_status(s, dest_id, status, lease_s=self.settings.simulcast_lease_seconds)

    def _video_event(self, session_id: int, folder: str) -> dict[str, Any]:
        return {
            "state": str(StreamState.RECEIVING),
            "playlist_url": self.provider.playlist_url(session_id, folder),
            "poster_url": f"/video/{session_id}/{POSTER}",
        }

    async def on_publish_done(self, session: AsyncSession, *, key: str, client_id: str) -> None:
        stream = await ingest.end_publish(session, key=key, client_id=client_id)
        if stream is None:
            return
        sid = stream.session_id
        rt = self.runtimes.get(sid)
        if rt is not None:
            async with rt.lock:
                rt.receiving = False
                rt.clock.stopped(now_ms())
                if rt.recording is not None:
                    rt.recording.poll()
        log.info("video: encoder gone", session_id=sid, key=key_prefix(key))
        await self.stop_relays(sid)
        target = await live_service.get_session(session, sid)
        still_live = target.status == SessionStatus.LIVE
        await session.rollback()
        if not still_live:
            await self.finalize(sid)
            return
        payload = {"state": str(StreamState.RECONNECTING), "grace_s": self.grace_s}
        await self.hub.publisher.publish(sid, EventType.VIDEO, payload)
        self._schedule_end(sid, self.grace_s)

    async def _media_exited(self) -> None:
        """nginx died: every encoder is disconnected (nginx cannot say so any more)."""
        async with self.db.session() as s:
            streams = await ingest.streams_in(s, StreamState.RECEIVING)
            now = utcnow()
            for stream in streams:
                ingest.stop_receiving(stream, now)
            await s.commit()
            ids = [st.session_id for st in streams]
        for sid in ids:
            rt = self.runtimes.get(sid)
            if rt is not None:
                rt.receiving = False
                rt.clock.stopped(now_ms())
            payload = {"state": str(StreamState.RECONNECTING), "grace_s": self.grace_s}
            with contextlib.suppress(Exception):
                await self.hub.publisher.publish(sid, EventType.VIDEO, payload)
            self._schedule_end(sid, self.grace_s)

    # --- the end ----------------------------------------------------------------------

    def _cancel_end(self, session_id: int) -> None:
        task = self._timers.pop(session_id, None)
        if task is not None:
            task.cancel()

    def _schedule_end(self, session_id: int, delay_s: float) -> None:
        self._cancel_end(session_id)
        task = asyncio.get_running_loop().create_task(self._end_later(session_id, delay_s))
        self._timers[session_id] = task

    async def _end_later(self, session_id: int, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        try:
            async with self.db.session() as s:
                room = self.hub.publisher.on_commit(s)  # session_ended, with the end's commit
                outcome, ended = await ingest.end_after_grace(
                    s, session_id, self.grace_s, room=room
                )
                if ended is not None:
                    log.info("video: grace period over, session ended", session_id=session_id)
                    await self.hub.save_stats(session_id, session=s)
            if outcome is not ingest.Grace.WAIT:
                await self.finalize(session_id)
        except Exception:
            log.exception("video: ending the session failed", session_id=session_id)
        finally:
            if self._timers.get(session_id) is asyncio.current_task():
                del self._timers[session_id]

    def _session_closed_elsewhere(self, session_id: int) -> None:
        """The room said session_ended (the studio's End button, or our grace timer)."""
        task = asyncio.get_running_loop().create_task(self._closed_elsewhere(session_id))
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _closed_elsewhere(self, session_id: int) -> None:
        self._cancel_end(session_id)
        folder = self.folders.get(session_id)
        if folder is not None:
            await self.provider.drop_publisher(folder)
        await self.finalize(session_id)

    async def finalize(self, session_id: int) -> None:
        """Write the replay (VOD, ENDLIST), stop recording, mark the stream ended (once)."""
        if session_id in self._finalized:
            return
        self._finalized.add(session_id)
        await self.stop_relays(session_id)
        rt = self.runtimes.pop(session_id, None)
        duration_ms, ready = 0, False
        if rt is not None:
            rt.receiving = False
            await self._stop_runtime(rt)
            recording = rt.recording
        else:
            folder = self.folders.get(session_id) or await self._folder(session_id)
            local = self.provider.local_dir
            recording = Recording(local / folder) if local is not None and folder else None
        if recording is not None:
            with contextlib.suppress(OSError):
                recording.poll()
            ready = recording.write_replay() is not None
            duration_ms = recording.duration_ms
            if ready and rt is not None and not rt.poster_at:
                await self._maybe_poster(rt, force=True)
        elif self.provider.replay_url(session_id, self.folders.get(session_id, "")):
            ready = True
        async with self.db.session() as s:
            if ready and recording is not None:  # chips count from the replay's first picture
                await realign(s, session_id, recording.segments)
            await ingest.mark_finished(s, session_id, duration_ms=duration_ms, replay_ready=ready)
        folder = self.folders.get(session_id)
        payload: dict[str, Any] = {"state": str(StreamState.ENDED), "replay_ready": ready}
        if ready and folder:
            payload["replay_url"] = self.provider.replay_url(session_id, folder)
        with contextlib.suppress(Exception):
            await self.hub.publisher.publish(session_id, EventType.VIDEO, payload)
        log.info(
            "video: replay ready" if ready else "video: ended without video",
            session_id=session_id,
            duration_ms=duration_ms,
        )

    async def _folder(self, session_id: int) -> str | None:
        async with self.db.session(deferred=True) as s:
            stream = await s.get(VideoStream, session_id)
            folder = stream.folder if stream is not None else None
            await s.rollback()
        if folder is not None:
            self.folders[session_id] = folder
        return folder

    async def folder_of(self, session_id: int) -> str | None:
        """The session's public stream folder (cached: it never changes)."""
        return self.folders.get(session_id) or await self._folder(session_id)

    async def key_revoked(self, creator_id: int) -> None:
        """Disconnect the creator's encoders that use a key just revoked or rotated."""
        for rt in list(self.runtimes.values()):
            if rt.receiving:
                async with self.db.session(deferred=True) as s:
                    stream = await s.get(VideoStream, rt.session_id)
                    owner = stream.creator_id if stream is not None else None
                    await s.rollback()
                if owner == creator_id:
                    await self.provider.drop_publisher(rt.folder)

    async def session_exists(self, session_id: int) -> bool:
        async with self.db.session(deferred=True) as s:
            try:
                await live_service.get_session(s, session_id)
            except NotFound:
                return False
            finally:
                await s.rollback()
        return True
