"""``/ws/live/{session_id}``: the room socket. Anyone may watch; signed-in buyers may chat.

Server → client: a ``snapshot`` object first (or, with ``?since=N``, an array of the
missed events), then one JSON array of events per tick; ``{"type":"error",…}`` objects
answer bad client frames. Client → server: ``{"type":"comment","text":…}`` (signed in),
``{"type":"like"}``, ``{"type":"resume","seq":N}``. Close codes: 1000 session ended,
1008 flood or too many bad frames, 1009 frame over the size limit, 1013 too slow (dropped),
4401 bad token, 4404 no such session.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends, Query, WebSocket
from starlette.websockets import WebSocketDisconnect

from liveshop.accounts.deps import ACCESS_MARK
from liveshop.accounts.service import Principal, get_user, resolve_token
from liveshop.core.db import Database
from liveshop.core.errors import NotFound, Problem
from liveshop.core.events import dumps
from liveshop.core.i18n import gettext as _
from liveshop.core.metrics import COMMENTS
from liveshop.core.settings import Settings
from liveshop.core.tasks import stop_if_cancelled
from liveshop.core.types import MAX_ID, Id, first_control_character
from liveshop.realtime.hub import Hub
from liveshop.realtime.ports import Hold, Tapper, Watcher
from liveshop.realtime.room import Room
from liveshop.realtime.wire import (
    CLOSE_BAD_TOKEN,
    CLOSE_NO_SESSION,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    Conn,
    OutFrame,
    error_frame,
    make_conn,
)

ws_router = APIRouter(tags=["live"])
log = structlog.get_logger("liveshop.realtime.ws")


@dataclass(frozen=True, slots=True)
class RoomViewer:
    principal: Principal | None
    display_name: str = ""
    bad_token: bool = False
    tapper: Tapper | None = None  # the token signed in with (taps on a drop check it again)


def _same_origin(websocket: WebSocket) -> bool:
    """Cookies only count for pages of our own origin (no cross-site socket hijacking)."""
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


async def room_viewer(websocket: WebSocket) -> RoomViewer:
    """Who is watching: ``?token=`` (bearer) or the session cookie; anonymous otherwise.

    Uses a short database session of its own: a socket lives for hours and must not hold
    a pooled connection.
    """
    settings: Settings = websocket.app.state.settings
    token, via_cookie = websocket.query_params.get("token"), False
    if not token:
        cookie = websocket.cookies.get(settings.session_cookie_name)
        if cookie and _same_origin(websocket):
            token, via_cookie = cookie, True
    if not token:
        return RoomViewer(None)
    db: Database = websocket.app.state.db
    async with db.session() as s:
        principal = await resolve_token(s, token, via_cookie=via_cookie)
        if principal is None:
            return RoomViewer(None, bad_token=not via_cookie)
        user = await get_user(s, principal.user_id)
        return RoomViewer(principal, user.display_name, tapper=Tapper(token, via_cookie))


setattr(room_viewer, ACCESS_MARK, "public")
RoomViewerDep = Annotated[RoomViewer, Depends(room_viewer)]


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate = rate_per_s
        self.capacity = burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class ClientFrames:
    """Everything a viewer may send, checked; a bad frame never reaches the room."""

    def __init__(
        self, hub: Hub, room: Room, conn: Conn, viewer: RoomViewer, watcher: Watcher
    ) -> None:
        c = hub.config
        self.hub, self.room, self.conn, self.viewer, self.config = hub, room, conn, viewer, c
        self.watcher = watcher
        self.last_beat: float | None = None
        self.comments = TokenBucket(c.comment_per_s, c.comment_burst)
        self.likes = TokenBucket(c.like_per_s, c.like_per_s)
        self.taps = TokenBucket(c.tap_per_s, c.tap_per_s)
        self.bad = 0
        self.strikes = 0

    def _error(self, code: str, detail: str, **extra: Any) -> None:
        self.conn.write(error_frame(code, detail, **extra))

    async def _close(self, code: int, reason: str) -> bool:
        self.hub.leave(self.room, self.conn)
        self.conn.mark_gone()
        await self.conn.ws.close(code=code, reason=reason)
        return False

    async def _bad(self, code: str, detail: str) -> bool:
        self.bad += 1
        if self.bad >= self.config.bad_frame_limit:
            return await self._close(CLOSE_POLICY, "too many malformed frames")
        self._error(code, detail)
        return True

    async def handle(self, message: Mapping[str, Any]) -> bool:
        """Act on one client message; False once the socket has been closed."""
        limit = self.config.max_frame_bytes
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            if len(data) > limit:
                return await self._close(CLOSE_TOO_BIG, f"frames are limited to {limit} bytes")
            return await self._bad("text-only", "send JSON in text frames")
        if len(text) > limit or len(text.encode()) > limit:
            return await self._close(CLOSE_TOO_BIG, f"frames are limited to {limit} bytes")
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):
            return await self._bad("bad-json", "a frame is one JSON object")
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "comment":
            return await self._comment(frame)
        if kind == "like":
            if self.likes.take():
                self.room.local_likes += 1
            return True
        if kind == "claim":
            return await self._claim(frame)
        if kind == "pay":
            return self._pay(frame)
        if kind == "hb":
            return await self._heartbeat(frame)
        if kind == "bid":
            return await self._bid(frame)
        if kind == "ping":  # the floor a tap is measured against: the same token check
            if self.viewer.tapper is not None and self.hub.claims is not None:
                await self.hub.claims.check(self.viewer.tapper)
            self.conn.write(_direct({"type": "pong", "ref": _ref(frame)}))
            return True
        if kind == "resume":
            seq = frame.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_ID:
                return await self._bad("bad-resume", "resume needs a seq (integer ≥ 0)")
            await self.hub.resume(self.room, self.conn, seq)
            return True
        return await self._bad("unknown-type", f"unknown frame type {str(kind)[:40]!r}")

    async def _heartbeat(self, frame: dict[str, Any]) -> bool:
        """The player's ``{"type":"hb","visible","playing","vid"}``: counted by the audience
        only when the tab is visible and the video plays. The seconds it stands for are the
        time since this socket's last one, at most two intervals (a client cannot add watch
        time by beating faster: beats closer than a third of the interval are ignored)."""
        visible, playing, vid = frame.get("visible"), frame.get("playing"), frame.get("vid")
        if not isinstance(visible, bool) or not isinstance(playing, bool):
            return await self._bad("bad-heartbeat", "a heartbeat says visible and playing")
        if vid is not None and (not isinstance(vid, str) or not _CLIENT_ID.fullmatch(vid)):
            return await self._bad("bad-heartbeat", "vid is 8-64 letters, digits, - or _")
        audience = self.hub.audience
        if audience is None:
            return True
        interval = self.config.heartbeat_s
        now = time.monotonic()
        if self.last_beat is not None and now - self.last_beat < interval / 3:
            return True
        seconds = interval if self.last_beat is None else min(now - self.last_beat, 2 * interval)
        self.last_beat = now
        audience.heartbeat(
            self.room.state.session,
            self.watcher,
            client_id=vid,
            seconds=round(seconds),
            visible=visible,
            playing=playing,
        )
        return True

    async def _claim(self, frame: dict[str, Any]) -> bool:
        """A tap on the room's drop, answered on this socket only (``claim_result``, with the
        frame's ``ref``). The deals domain decides (``hub.claims``), with the tapper's token
        checked again from the node's cache."""
        ref = _ref(frame)
        viewer = self.viewer
        if viewer.tapper is None or self.hub.claims is None:
            body: dict[str, Any] = {
                "error": {"code": "sign-in-required", "detail": "sign in to buy"}
            }
        else:
            if not self.taps.take():
                self._error("rate-limited", "too many taps; slow down", ref=ref)
                return True
            body = await self.hub.claims.tap_frame(viewer.tapper, self.room.session_id, frame)
        self.conn.write(_direct({"type": "claim_result", "ref": ref, **body}))
        return True

    def _pay(self, frame: dict[str, Any]) -> bool:
        """One-tap pay of the viewer's held claim with their default saved card, answered on
        this socket only (``pay_result``, with the frame's ``ref``); the deals domain pays it
        (``hub.payer``). Shares the taps' budget. Paid in the background: the socket goes on
        reading (chat, likes) while the node's pay batch is written; a payment whose socket
        closes meanwhile still completes (the buyer finds it in their orders)."""
        ref = _ref(frame)
        viewer = self.viewer
        payer = self.hub.payer
        if viewer.tapper is None or payer is None:
            body = {"error": {"code": "sign-in-required", "detail": _("sign in to buy")}}
            self.conn.write(_direct({"type": "pay_result", "ref": ref, **body}))
            return True
        if not self.taps.take():
            self._error("rate-limited", "too many taps; slow down", ref=ref)
            return True
        tapper, session_id = viewer.tapper, self.room.session_id

        async def pay() -> None:
            try:
                answer = await payer.pay_frame(tapper, session_id, frame)
            except Exception:
                stop_if_cancelled()
                log.exception("a room payment failed", session_id=session_id)
                answer = {"error": {"code": "internal-error", "detail": "try again"}}
            self.conn.write(_direct({"type": "pay_result", "ref": ref, **answer}))

        task = asyncio.ensure_future(pay())
        _PAYING.add(task)
        task.add_done_callback(_PAYING.discard)
        return True

    async def _bid(self, frame: dict[str, Any]) -> bool:
        """A bid on the room's lot, answered on this socket only (``bid_result``, with the
        frame's ``ref``); the auctions domain decides (``hub.bids``). Shares the taps'
        budget."""
        ref = _ref(frame)
        viewer = self.viewer
        if viewer.tapper is None or self.hub.bids is None:
            body: dict[str, Any] = {
                "error": {"code": "sign-in-required", "detail": "sign in to bid"}
            }
        else:
            if not self.taps.take():
                self._error("rate-limited", "too many bids; slow down", ref=ref)
                return True
            if await self._banned():
                body = {"error": {"code": "banned", "detail": _("you are banned from these rooms")}}
                self.conn.write(_direct({"type": "bid_result", "ref": ref, **body}))
                return True
            body = await self.hub.bids.bid_frame(viewer.tapper, self.room.session_id, frame)
        self.conn.write(_direct({"type": "bid_result", "ref": ref, **body}))
        return True

    async def _banned(self) -> bool:
        """Whether this socket's viewer is banned from the creator's rooms (no bids either);
        from the node's mute cache."""
        principal = self.viewer.principal
        creator_id = self.room.state.session.get("creator_id")
        if principal is None or not isinstance(creator_id, int) or self.conn.is_host:
            return False
        found = await self.hub.checks.muted(creator_id, principal.user_id)
        return found is not None and found.banned

    async def _muted(self, user_id: Id) -> bool:
        """Refuse (with an error frame) a comment of a viewer muted in the creator's rooms.
        From the node's mute cache (chat's, handed to the hub): no database read per
        comment."""
        creator_id = self.room.state.session.get("creator_id")
        if not isinstance(creator_id, int):
            return False
        muted = await self.hub.checks.muted(creator_id, user_id)
        if muted is None:
            return False
        if muted.banned:
            self._error("banned", _("you are banned from this creator's rooms"))
            return True
        until = muted.expires_at
        self._error(
            "muted",
            "you are muted in this room"
            + (f" until {until:%Y-%m-%d %H:%M} UTC" if until is not None else ""),
            until=until.isoformat() if until is not None else None,
        )
        return True

    async def _comment(self, frame: dict[str, Any]) -> bool:
        c = self.config
        principal = self.viewer.principal
        if principal is None:
            self._error("sign-in-required", "sign in to comment")
            return True
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            return await self._bad("bad-comment", "a comment needs some text")
        text = text.strip()
        at = first_control_character(text, multiline=True)
        if at is not None:
            return await self._bad(
                "bad-comment",
                f"a comment cannot contain control characters (U+{ord(text[at]):04X})",
            )
        if len(text) > c.comment_max_chars:
            return await self._bad(
                "comment-too-long", f"comments are at most {c.comment_max_chars} characters"
            )
        if not self.comments.take():
            self.strikes += 1
            if self.strikes >= c.flood_strikes:
                return await self._close(CLOSE_POLICY, "comment flood")
            self._error("rate-limited", "too many comments; slow down", per_s=c.comment_per_s)
            return True
        held = None
        if not self.conn.is_host:  # the hosts' own lines are neither muted nor filtered
            if await self._muted(principal.user_id):
                return True
            held = await self._filtered(text)
        try:
            comment_id = await self.hub.comments.post(
                session_id=self.room.session_id, user_id=principal.user_id, text=text, held=held
            )
        except Problem as exc:
            self._error(exc.code, exc.detail)
            return True
        except Exception:  # the writer's own failure: this line is lost, the socket is not
            log.exception("a comment was not stored", session_id=self.room.session_id)
            self._error("comment-not-stored", "your comment could not be stored; try again")
            return True
        await self.hub.publisher.comment(
            self.room.session_id,
            comment_id=comment_id,
            user_id=principal.user_id,
            display_name=self.viewer.display_name,
            text=text,
            host=self.conn.is_host,
            held=held is not None,
            private=held is not None and held.rule == COMPLAINT,
        )
        COMMENTS.inc()
        if self.hub.audience is not None:
            self.hub.audience.commented(self.room.state.session, self.watcher)
        if held is not None and held.rule == COMPLAINT and self.hub.complaints is not None:
            await self._route_complaint(principal.user_id, comment_id, text, held)
        return True

    async def _route_complaint(self, user_id: int, comment_id: int, text: str, held: Hold) -> None:
        """A held complaint becomes a support case; its author alone is told (``case_opened``).
        Only matched lines get here: the ordinary comment path reads no database."""
        assert self.hub.complaints is not None
        try:
            body = await self.hub.complaints.route(
                session_id=self.room.session_id,
                user_id=user_id,
                comment_id=comment_id,
                text=text,
                hold=held,
            )
        except Exception:
            stop_if_cancelled()
            log.exception("a complaint was not routed", session_id=self.room.session_id)
            return
        if body is not None:
            self.conn.write(_direct({"type": "case_opened", **body}))

    async def _filtered(self, text: str) -> Hold | None:
        """Why the automatic filter holds this comment (a blocked term of the creator's or
        the platform's list, or a link), if it does. From the node's filter cache (chat's,
        handed to the hub): no database read per comment. A held comment is stored hidden
        and logged, and only its author's sockets get it — to them it looks sent."""
        session = self.room.state.session
        creator_id, market = session.get("creator_id"), session.get("market")
        if not isinstance(creator_id, int) or not isinstance(market, str):
            return None
        return await self.hub.checks.held(creator_id, market, text)


COMPLAINT = "complaint"  # the hold rule of a complaint (``helpdesk.classify.RULE``)

_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


# Payments in flight on this process's sockets (a strong reference until each is answered).
_PAYING: set[asyncio.Future[None]] = set()


def _ref(frame: dict[str, Any]) -> str | int | None:
    """The client's own tag for a request frame, echoed in the answer (short, or dropped)."""
    ref = frame.get("ref")
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        return None
    if isinstance(ref, str):
        return ref[:64]
    return ref if -(2**53) < ref < 2**53 else None


def _direct(payload: dict[str, Any]) -> OutFrame:
    return OutFrame(dumps(payload))


async def _refuse(websocket: WebSocket, code: int, error: str, detail: str) -> None:
    await websocket.send_text(json.dumps({"type": "error", "code": error, "detail": detail}))
    await websocket.close(code=code, reason=detail[:120])


@ws_router.websocket("/ws/live/{session_id}")
async def live_room(
    websocket: WebSocket,
    session_id: Id,
    viewer: RoomViewerDep,
    since: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    studio: Annotated[bool, Query(description="the studio page's socket (never counted)")] = False,
) -> None:
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    if viewer.bad_token:
        await _refuse(websocket, CLOSE_BAD_TOKEN, "invalid-token", "unknown, expired or revoked")
        return
    try:
        await hub.room(session_id)
        host = viewer.principal is not None and await hub.directory.is_host(
            session_id, viewer.principal.user_id
        )
    except NotFound:
        await _refuse(websocket, CLOSE_NO_SESSION, "live-session-not-found", "no such session")
        return
    conn = make_conn(
        websocket,
        user_id=viewer.principal.user_id if viewer.principal else None,
        display_name=viewer.display_name,
        is_host=host,
        buffer_limit=hub.config.send_buffer_limit,
    )
    room = await hub.join(session_id, conn, since)
    watcher = Watcher(
        user_id=conn.user_id,
        host=host,
        studio=studio,
        user_agent=websocket.headers.get("user-agent", "")[:300],
    )
    if hub.audience is not None:
        hub.audience.joined(room.state.session, watcher)
    client = ClientFrames(hub, room, conn, viewer, watcher)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                if not await client.handle(message):
                    break
            except Problem as exc:
                conn.write(error_frame(exc.code, exc.detail))
            except (WebSocketDisconnect, OSError, RuntimeError):
                raise
            except Exception:
                # A bug in handling one frame costs that frame an error answer, never the
                # socket (a close 1006 with no word) nor anyone else's.
                log.exception("a room frame failed", session_id=session_id)
                conn.write(error_frame("internal-error", "that frame could not be handled"))
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass
    finally:
        conn.mark_gone()
        hub.leave(room, conn)
        if hub.audience is not None:
            hub.audience.left(room.state.session, watcher)
