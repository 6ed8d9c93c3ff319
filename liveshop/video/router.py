"""Video over HTTP: stream keys (creators), video state and replay timeline (public),
the media server's callbacks (internal), and the HLS files themselves."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from liveshop.accounts.deps import CreatorPrincipal, CurrentPrincipal, MaybePrincipal, SessionDep
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, NotFound, Unauthorized
from liveshop.core.i18n import gettext
from liveshop.core.types import Id, Line
from liveshop.live import service as live_service
from liveshop.live.catalog_view import product_summary
from liveshop.live.models import SessionStatus
from liveshop.video import service, simulcast, timeline
from liveshop.video.deps import InternalCaller, PublicFile
from liveshop.video.health import Health
from liveshop.video.hls import (
    LIVE_PLAYLIST,
    POSTER,
    REPLAY_PLAYLIST,
    SEGMENT_NAME,
    last_sequence,
    program_date_times,
    safe_path,
    servable,
)
from liveshop.video.manager import VideoManager
from liveshop.video.models import SimulcastDestination, StreamState, TimelineKind
from liveshop.video.placeholder import PLACEHOLDER_JPEG
from liveshop.video.schemas import (
    NewStreamKeyOut,
    ReplayProductOut,
    SimulcastIn,
    SimulcastOut,
    StreamHealthOut,
    StreamKeyOut,
    TimelineEntryOut,
    TimelineOut,
    VideoOut,
)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
CACHE_LIVE_PLAYLIST = "no-cache"
CACHE_REPLAY_PLAYLIST = "public, max-age=3600"
CACHE_SEGMENT = "public, max-age=31536000, immutable"
CACHE_POSTER = "public, max-age=30"
SESSION_ID = re.compile(r"[1-9][0-9]{0,17}")
PUBLIC_STATUSES = frozenset({SessionStatus.ENDED, SessionStatus.CANCELLED})


def _manager(request: Request) -> VideoManager:
    manager: VideoManager = request.app.state.video
    return manager


ManagerDep = Annotated[VideoManager, Depends(_manager)]

api = APIRouter(prefix="/api/v1/video", tags=["video"], responses=PROBLEM_RESPONSES)


# --- stream keys ----------------------------------------------------------------------


@api.get("/stream-key")
async def get_stream_key(
    principal: CreatorPrincipal, session: SessionDep, video: ManagerDep
) -> StreamKeyOut:
    """Your key's prefix and the RTMP server URL (the key itself is never shown again)."""
    row = await service.active_key(session, principal.user_id)
    return StreamKeyOut(
        has_key=row is not None,
        prefix=row.prefix if row else None,
        created_at=row.created_at if row else None,
        rtmp_url=video.provider.ingest_url(),
        provider=video.provider.name,
    )


@api.post("/stream-key/rotate")
async def rotate_stream_key(
    principal: CreatorPrincipal, session: SessionDep, video: ManagerDep, response: Response
) -> NewStreamKeyOut:
    """A new key (the old one stops working, and an encoder using it is disconnected).

    The answer is the only time the key is shown: it is not stored anywhere readable."""
    issued = await service.rotate_key(session, principal.user_id)
    await video.key_revoked(principal.user_id)
    response.headers["Cache-Control"] = "no-store"
    return NewStreamKeyOut(
        stream_key=issued.key,
        prefix=issued.row.prefix,
        created_at=issued.row.created_at,
        rtmp_url=video.provider.ingest_url(),
    )


@api.delete("/stream-key", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_stream_key(
    principal: CreatorPrincipal, session: SessionDep, video: ManagerDep
) -> None:
    """Revoke your key: nobody can go live with it any more (rotate to get a new one)."""
    if await service.revoke_key(session, principal.user_id) is not None:
        await video.key_revoked(principal.user_id)


# --- simulcast ------------------------------------------------------------------------


def _destination_out(row: SimulcastDestination) -> SimulcastOut:
    """The destination, with its relay's status as the process running it last wrote it
    (none once that status's lease ran out: its process died mid-relay)."""
    relay = simulcast.relay_status(row, utcnow())
    return SimulcastOut(
        id=row.id,
        label=row.label,
        host=row.host,
        created_at=row.created_at,
        state=relay.state if relay else None,
        attempts=relay.attempts if relay else 0,
        error=relay.error if relay else None,
    )


@api.get("/simulcast")
async def list_simulcast(principal: CreatorPrincipal, session: SessionDep) -> list[SimulcastOut]:
    """Your other platforms, each with its relay's status while you are live."""
    rows = await simulcast.destinations_of(session, principal.user_id)
    return [_destination_out(row) for row in rows]


@api.post("/simulcast", status_code=status.HTTP_201_CREATED)
async def add_simulcast(
    body: SimulcastIn, principal: CreatorPrincipal, session: SessionDep, video: ManagerDep
) -> SimulcastOut:
    """Add a destination (used from your next go-live). The URL and key are stored
    encrypted and never shown again."""
    row = await simulcast.add_destination(
        session,
        video.settings,
        creator_id=principal.user_id,
        label=body.label,
        url=body.url,
        key=body.key,
    )
    return _destination_out(row)


@api.delete("/simulcast/{dest_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_simulcast(
    dest_id: Id, principal: CreatorPrincipal, session: SessionDep, video: ManagerDep
) -> None:
    """Remove a destination (a relay to it stops)."""
    await simulcast.remove_destination(session, creator_id=principal.user_id, dest_id=dest_id)
    for sid, relays in list(video.relays.items()):
        for relay in [r for r in relays if r.dest_id == dest_id]:
            await relay.stop()
            relays.remove(relay)
        if not relays:
            video.relays.pop(sid, None)


# --- video state and the replay timeline ----------------------------------------------


@api.get("/{session_id}")
async def get_video(
    session_id: Id, session: SessionDep, video: ManagerDep, _: MaybePrincipal
) -> VideoOut:
    """The session's video: what to play (live playlist, or the replay once it ended)."""
    live = await live_service.get_session(session, session_id)
    stream = await service.get_stream(session, session_id)
    folder = stream.folder if stream is not None else None
    provider = video.provider
    ready = False
    if folder is not None and stream is not None and stream.state != StreamState.ENDED:
        ready = await run_in_threadpool(provider.playlist_ready, folder)
    return VideoOut(
        session_id=session_id,
        session_status=live.status,
        state=stream.state if stream is not None else None,
        playlist_url=provider.playlist_url(session_id, folder) if folder else None,
        playlist_ready=ready,
        replay_url=(
            provider.replay_url(session_id, folder)
            if folder and stream is not None and stream.replay_ready
            else None
        ),
        poster_url=f"/video/{session_id}/{POSTER}",
        duration_ms=stream.duration_ms if stream is not None else 0,
    )


@api.get("/{session_id}/health")
async def get_stream_health(
    session_id: Id, session: SessionDep, video: ManagerDep, principal: CurrentPrincipal
) -> StreamHealthOut:
    """The studio's stream health (its hosts only): picture size, frame rate, bitrate and
    keyframe interval as the ingest receives them, with plain warnings for wrong settings."""
    live = await live_service.get_session(session, session_id)
    await live_service.ensure_can_control(session, principal, live)
    stream = await service.get_stream(session, session_id)
    state = stream.state if stream is not None else None
    receiving = state == StreamState.RECEIVING
    folder = stream.folder if stream is not None else None
    since = stream.publish_started_at if stream is not None else None
    await session.rollback()  # nothing held while ffprobe reads the segment
    local = video.provider.local_dir
    receiving_for = (utcnow() - since).total_seconds() if receiving and since else 0.0
    if local is not None and folder is not None:
        health = await video.health.read(
            local / folder, receiving=receiving, receiving_for_s=receiving_for
        )
    else:  # another server does the media work: nothing to read here
        health = Health(receiving=receiving)
    ready = False
    if receiving and folder is not None:
        ready = await run_in_threadpool(video.provider.playlist_ready, folder)
    return StreamHealthOut(
        session_id=session_id,
        state=state,
        receiving=receiving,
        preview_url=video.provider.playlist_url(session_id, folder) if folder else None,
        playlist_ready=ready,
        has_video=health.has_video,
        has_audio=health.has_audio,
        video_codec=health.video_codec,
        width=health.width,
        height=health.height,
        fps=health.fps,
        kbps=health.kbps,
        keyframe_interval_s=health.keyframe_interval_s,
        warnings=health.warnings,
    )


def _product_ids(kind: str, data: dict[str, Any]) -> list[int]:
    if kind == TimelineKind.PURCHASE_SPIKE:
        return [int(p["product_id"]) for p in data.get("products", []) if "product_id" in p]
    pid = data.get("product_id")
    return [int(pid)] if isinstance(pid, int) else []


@api.get("/{session_id}/timeline")
async def get_timeline(
    session_id: Id, session: SessionDep, video: ManagerDep, principal: MaybePrincipal
) -> TimelineOut:
    """What was on screen when: pins, flash deals, purchase spikes, with their offsets into
    the replay (ms). Public once the session has ended; while it runs, its hosts only.

    Products come at their normal price — a replay never brings a flash deal back."""
    live = await live_service.get_session(session, session_id)
    if live.status not in PUBLIC_STATUSES:
        if principal is None:
            raise Unauthorized(
                gettext("the timeline of a running session is for its hosts; sign in"),
                code="unauthenticated",
                headers={"WWW-Authenticate": "Bearer"},
            )
        await live_service.ensure_can_control(session, principal, live)
    stream = await service.get_stream(session, session_id)
    rows = await timeline.entries(session, session_id)
    entries, wanted = [], []
    for row in rows:
        ids = _product_ids(row.kind, row.payload)
        wanted.extend(ids)
        entries.append(
            TimelineEntryOut(
                offset_ms=row.offset_ms,
                kind=row.kind,
                product_id=ids[0] if ids else None,
                data=timeline.served(row.payload),
            )
        )
    products = []
    for pid in dict.fromkeys(wanted):
        summary = await product_summary(session, pid, live.market_code)
        if summary is None:
            continue
        cheapest = min(summary.skus, key=lambda s: s.price_minor, default=None)
        products.append(
            ReplayProductOut(
                product_id=pid,
                title=summary.title,
                image_url=summary.image_url,
                currency=summary.currency,
                price_minor=cheapest.price_minor if cheapest else None,
                price_display=cheapest.price_display if cheapest else None,
                url=f"/p/{pid}",
            )
        )
    folder = stream.folder if stream is not None else None
    ready = stream is not None and stream.replay_ready
    return TimelineOut(
        session_id=session_id,
        session_status=live.status,
        duration_ms=stream.duration_ms if stream is not None else 0,
        replay_url=video.provider.replay_url(session_id, folder) if folder and ready else None,
        poster_url=f"/video/{session_id}/{POSTER}",
        entries=entries,
        products=products,
    )


# --- the media server's callbacks ------------------------------------------------------

internal = APIRouter(prefix="/internal/video", include_in_schema=False)


async def _publisher_form(request: Request) -> tuple[str, str]:
    form = await request.form()
    name, client_id = form.get("name"), form.get("clientid")
    if form.get("app") != "live" or not isinstance(name, str) or not isinstance(client_id, str):
        raise Forbidden(gettext("not a publish to the live application"), code="stream-key-invalid")
    return name, client_id[:32]


@internal.post("/on_publish")
async def on_publish(
    request: Request, _: InternalCaller, session: SessionDep, video: ManagerDep
) -> Response:
    """nginx-rtmp ``on_publish``: 403 refuses the encoder before a byte is written; 302
    with a plain-name Location renames the stream (and its HLS folder) away from the key."""
    key, client_id = await _publisher_form(request)
    folder = await video.on_publish(session, key=key, client_id=client_id)
    return Response(status_code=status.HTTP_302_FOUND, headers={"Location": folder})


@internal.post("/on_publish_done")
async def on_publish_done(
    request: Request, _: InternalCaller, session: SessionDep, video: ManagerDep
) -> Response:
    key, client_id = await _publisher_form(request)
    await video.on_publish_done(session, key=key, client_id=client_id)
    return Response(status_code=status.HTTP_200_OK)


# --- HLS files --------------------------------------------------------------------------

files = APIRouter(include_in_schema=False)


def _not_found() -> NotFound:
    return NotFound(gettext("no such video file"), code="video-file-not-found")


@files.get("/video/{session_id}/{name}")
async def video_file(
    session_id: Line, name: Line, request: Request, _: PublicFile, video: ManagerDep
) -> Response:
    """Playlists, segments and the poster. Anything but our own file names is 404.

    The live playlist answers a blocking reload (``?_HLS_msn=N``, LL-HLS without parts): the
    request is held until segment N is in the playlist (at most ``BLOCK_RELOAD_S``), so a
    player hears of a new segment the moment nginx-rtmp closes it instead of at its next
    poll."""
    if SESSION_ID.fullmatch(session_id) is None or not servable(name):
        raise _not_found()
    sid = int(session_id)
    folder = await video.folder_of(sid)
    if name == POSTER:
        return await _poster(video, sid, folder)
    if folder is None:
        raise _not_found()
    local = video.provider.local_dir
    if local is None:
        url = (
            video.provider.replay_url(sid, folder)
            if name == REPLAY_PLAYLIST
            else video.provider.playlist_url(sid, folder)
        )
        if name not in (LIVE_PLAYLIST, REPLAY_PLAYLIST) or not url:
            raise _not_found()
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    if name == LIVE_PLAYLIST:
        # Once the replay exists the session is over: players get the complete VOD.
        replay = safe_path(local, folder, REPLAY_PLAYLIST)
        if replay is not None and replay.is_file():
            return await _snapshot(replay, PLAYLIST_TYPE, _cache(REPLAY_PLAYLIST))
    path = safe_path(local, folder, name)
    if path is None or not path.is_file():
        raise _not_found()
    if SEGMENT_NAME.fullmatch(name):  # written once, never changed: streamed from disk
        return FileResponse(path, media_type=SEGMENT_TYPE, headers=_cache(name))
    if name == LIVE_PLAYLIST:  # nginx-rtmp's, with the segments' wall clock added
        text = await _live_playlist(path, _wanted_msn(request))
        return Response(program_date_times(text), media_type=PLAYLIST_TYPE, headers=_cache(name))
    return await _snapshot(path, PLAYLIST_TYPE, _cache(name))


BLOCK_RELOAD_S = 6.0  # three 2-s segments: longer, and the player should ask again anyway
BLOCK_POLL_S = 0.05


def _wanted_msn(request: Request) -> int | None:
    raw = request.query_params.get("_HLS_msn")
    if raw is None or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


async def _live_playlist(path: Path, msn: int | None) -> str:
    """The live playlist's text; given ``msn``, once segment ``msn`` is in it (or the wait is
    over, or the stream has ended)."""
    deadline = asyncio.get_running_loop().time() + BLOCK_RELOAD_S
    while True:
        text = bytes((await _snapshot(path, PLAYLIST_TYPE, {})).body).decode("utf-8", "replace")
        newest = last_sequence(text)
        if msn is None or (newest is not None and newest >= msn) or "#EXT-X-ENDLIST" in text:
            return text
        if asyncio.get_running_loop().time() >= deadline:
            return text
        await asyncio.sleep(BLOCK_POLL_S)


async def _snapshot(path: Path, media_type: str, headers: dict[str, str]) -> Response:
    """A small file that its writer replaces by rename (nginx-rtmp's playlists, the poster),
    read whole from one open file: a size taken from one version and the bytes of the next
    would send a broken response (uvicorn: "Response content longer than Content-Length")."""

    def read() -> bytes | None:
        try:
            with path.open("rb") as f:
                return f.read()
        except FileNotFoundError:  # replaced or cleaned up between the check and the open
            return None

    body = await run_in_threadpool(read)
    if body is None:
        raise _not_found()
    return Response(body, media_type=media_type, headers=headers)


def _cache(name: str) -> dict[str, str]:
    if name == LIVE_PLAYLIST:
        return {"Cache-Control": CACHE_LIVE_PLAYLIST}
    if name == REPLAY_PLAYLIST:
        return {"Cache-Control": CACHE_REPLAY_PLAYLIST}
    return {"Cache-Control": CACHE_SEGMENT}


async def _poster(video: VideoManager, session_id: Id, folder: str | None) -> Response:
    headers = {"Cache-Control": CACHE_POSTER}
    if folder is not None:
        path = video.poster_path(session_id, folder)
        if path.is_file():
            try:
                return await _snapshot(path, "image/jpeg", headers)
            except NotFound:  # a new poster's rename raced the check: the placeholder
                pass
    elif not await video.session_exists(session_id):
        raise _not_found()
    return Response(PLACEHOLDER_JPEG, media_type="image/jpeg", headers=headers)


router = APIRouter()
router.include_router(api)
router.include_router(internal)
router.include_router(files)
