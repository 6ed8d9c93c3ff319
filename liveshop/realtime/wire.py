"""Writing frames to viewer sockets without a task or an encode per viewer.

A room encodes one frame per tick and calls ``conn.write(frame)`` for every viewer. Under
uvicorn (websockets-sansio protocol) ``DirectConn`` writes the pre-built WebSocket frame
bytes straight to the socket's transport: no coroutine, no per-viewer framing, and a look
at the transport's write buffer decides whether the viewer is too slow — then it is
dropped (close 1013), never waited for. Elsewhere (e.g. Starlette's TestClient)
``QueuedConn`` falls back to the ASGI ``send`` through a bounded queue.

Writing whole frames to the transport is safe alongside the server's own writes (pings,
the close handshake): everything runs on one event loop and each write is a whole frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from liveshop.core.events import dumps

PROTOCOL_SCOPE_KEY = "liveshop.ws_protocol"

CLOSE_NORMAL = 1000  # the session ended
CLOSE_POLICY = 1008  # flood or too many malformed frames
CLOSE_TOO_BIG = 1009  # a client frame over the size limit
CLOSE_TRY_LATER = 1013  # too slow to keep up: dropped
CLOSE_BAD_TOKEN = 4401  # the token given is unknown, expired or revoked
CLOSE_NO_SESSION = 4404  # no such live session


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (server to client) around ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class OutFrame:
    """A frame for many sockets: the JSON payload, and the wire bytes built once."""

    __slots__ = ("_wire", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.payload)
        return self._wire


def error_frame(code: str, detail: str, **extra: Any) -> OutFrame:
    return OutFrame(dumps({"type": "error", "code": code, "detail": detail, **extra}))


class Conn:
    """One viewer socket as a room sees it."""

    __slots__ = (
        "_tasks",
        "batch_done",
        "display_name",
        "gone",
        "is_host",
        "transport",
        "user_id",
        "ws",
    )

    def __init__(self, ws: WebSocket, *, user_id: int | None, display_name: str, is_host: bool):
        self.ws = ws
        # Set when frames can be written straight to the socket (the room's fast path).
        self.transport: asyncio.Transport | None = None
        self.user_id = user_id
        self.display_name = display_name
        self.is_host = is_host
        self.gone = False
        self.batch_done = 0  # the room's last batch this socket has (see Room._write_group)
        self._tasks: set[asyncio.Task[None]] = set()

    def write(self, frame: OutFrame) -> bool:
        """Queue the frame for this socket; False if the socket is gone or was dropped."""
        raise NotImplementedError

    def mark_gone(self) -> None:
        """Nothing more may be written to this socket."""
        self.gone = True
        self.transport = None

    def close_soon(self, code: int, reason: str = "") -> None:
        """Close without awaiting the caller: the room never waits on one viewer."""
        if self.gone:
            return
        self.mark_gone()  # nothing more goes out after our close frame
        task = asyncio.get_running_loop().create_task(self._close(code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, reason=reason)

    def drop(self, grace_s: float) -> None:
        """Too slow: close with 1013, and cut the connection if that cannot get out."""
        self.close_soon(CLOSE_TRY_LATER, "too slow to keep up")


class DirectConn(Conn):
    __slots__ = ("_limit", "_proto", "_transport")

    def __init__(self, ws: WebSocket, proto: Any, *, limit: int, **kw: Any) -> None:
        super().__init__(ws, **kw)
        self._proto = proto
        self._transport: asyncio.Transport = proto.transport
        self.transport = self._transport
        self._limit = limit

    def write(self, frame: OutFrame) -> bool:
        # The hot loop of the fan-out: a few C calls per viewer. Our own closes set
        # ``gone``; closes by the server or the peer close the transport.
        if self.gone:
            return False
        transport = self._transport
        if transport.is_closing():
            self.mark_gone()
            return False
        if transport.get_write_buffer_size() > self._limit:
            return False
        transport.write(frame.wire)
        return True

    def over_limit(self) -> bool:
        return self._transport.get_write_buffer_size() > self._limit

    def drop(self, grace_s: float) -> None:
        super().drop(grace_s)
        asyncio.get_running_loop().call_later(grace_s, self._abort)

    def _abort(self) -> None:
        if not self._proto.disconnected:
            self._transport.abort()


class QueuedConn(Conn):
    """Fallback for servers whose transport is not reachable: a bounded queue and a writer."""

    __slots__ = ("_limit", "_queue", "_wake", "_writer")

    def __init__(self, ws: WebSocket, *, limit_frames: int = 256, **kw: Any) -> None:
        super().__init__(ws, **kw)
        self._queue: deque[bytes] = deque()
        self._limit = limit_frames
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._run())

    def write(self, frame: OutFrame) -> bool:
        if self.gone or len(self._queue) >= self._limit:
            return False
        self._queue.append(frame.payload)
        self._wake.set()
        return True

    def over_limit(self) -> bool:
        return len(self._queue) >= self._limit

    async def _run(self) -> None:
        try:
            while not self.gone:
                await self._wake.wait()
                self._wake.clear()
                while self._queue and not self.gone:
                    await self.ws.send_text(self._queue.popleft().decode())
        except Exception:
            self.gone = True

    async def _close(self, code: int, reason: str) -> None:
        self._writer.cancel()
        await super()._close(code, reason)


def make_conn(
    ws: WebSocket, *, user_id: int | None, display_name: str, is_host: bool, buffer_limit: int
) -> Conn:
    proto = ws.scope.get(PROTOCOL_SCOPE_KEY)
    kw: dict[str, Any] = {"user_id": user_id, "display_name": display_name, "is_host": is_host}
    if proto is not None:
        return DirectConn(ws, proto, limit=buffer_limit, **kw)
    return QueuedConn(ws, **kw)


class CaptureWebSocketProtocol:
    """ASGI middleware: remember uvicorn's websocket protocol object for ``DirectConn``.

    Only the websockets-sansio protocol is recognised (its transport, ``close_sent`` and
    ``disconnected`` are what ``DirectConn`` relies on); anything else falls back.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            proto = getattr(send, "__self__", None)
            if type(proto).__name__ == "WebSocketsSansIOProtocol" and all(
                hasattr(proto, a) for a in ("transport", "close_sent", "disconnected")
            ):
                scope[PROTOCOL_SCOPE_KEY] = proto
        await self.app(scope, receive, send)
