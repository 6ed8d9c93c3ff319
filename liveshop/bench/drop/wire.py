"""The load generator's wire: a lean HTTP/1.1 keep-alive client and a lean WebSocket client.

Both are bare ``asyncio.Protocol``s with one request in flight per connection (a tapper is
one buyer's phone: it taps, waits for the answer, taps again). No library on the hot path:
a request is pre-built bytes written to the transport, an answer is the status and the body
sliced out of the read buffer. httpx costs ~150 µs of CPU per request, this ~15 µs — at
10,000 taps/s on a machine the server shares, the load generator must not be what is
measured. This module imports nothing of the app (a client process stays small)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from typing import Any, cast

# --- HTTP/1.1 ------------------------------------------------------------------------------


def http_request(
    method: str, path: str, host: str, token: str, body: bytes = b"", extra: str = ""
) -> bytes:
    """One request's bytes (keep-alive is HTTP/1.1's default)."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"{extra}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class HttpConn(asyncio.Protocol):
    """One keep-alive connection; :meth:`send` returns ``(status, body)``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConn:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(cls, host, port)
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionResetError("connection closed"))

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        if self.closed or self.transport is None:
            raise ConnectionResetError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.buf.clear()
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buf += data
        answer = _parse_response(self.buf)
        if answer is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _parse_response(buf: bytearray) -> tuple[int, bytes] | None:
    """``(status, body)`` once the whole response is in ``buf``; None while it is not."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    status = int(buf[9:12])
    head = bytes(buf[:end]).lower()
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        if len(buf) < end + 4 + length:
            return None
        return status, bytes(buf[end + 4 : end + 4 + length])
    if b"\r\ntransfer-encoding: chunked" in head:
        body = bytearray()
        pos = end + 4
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            if len(buf) < line_end + 2 + size + 2:
                return None
            if size == 0:
                return status, bytes(body)
            body += buf[line_end + 2 : line_end + 2 + size]
            pos = line_end + 2 + size + 2
    return status, b""  # no body (204, 304)


# --- WebSocket -----------------------------------------------------------------------------

_HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: bGl2ZXNob3AtZHJvcC0xMg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
# RFC 6455 wants a client's masking key unpredictable (against proxy cache poisoning); a
# benchmark talking to its own server on loopback uses the zero key, so masking is free.
_ZERO_MASK = b"\x00\x00\x00\x00"


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _ZERO_MASK + payload


class WsConn(asyncio.Protocol):
    """One room socket. :meth:`send` writes a JSON frame with a ``ref`` and returns the
    server's answer to that ref (``claim_result``/``pong``); the room's broadcast frames
    (stock, deal events, chat …) arrive on the same socket and are skipped unparsed."""

    ANSWERS = (
        b'"claim_result"',
        b'"pay_result"',
        b'"pong"',
    )  # broadcast frames are arrays, answers objects

    def __init__(self, host: str, path: str) -> None:
        self.host, self.path = host, path
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buf = bytearray()
        self.waiter: asyncio.Future[dict[str, Any]] | None = None
        self.ref: str | None = None
        self.closed = False
        self.close_code: int | None = None
        self.skipped = 0  # broadcast frames received (and not parsed)

    @classmethod
    async def open(cls, host: str, port: int, path: str) -> WsConn:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(lambda: cls(f"{host}:{port}", path), host, port)
        async with asyncio.timeout(60):
            await proto.opened
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(_HANDSHAKE.format(path=self.path, host=self.host).encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        error = exc or ConnectionResetError(f"socket closed ({self.close_code})")
        if not self.opened.done():
            self.opened.set_exception(error)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    def send(self, frame: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        if self.closed or self.transport is None:
            raise ConnectionResetError("socket closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.ref = str(frame["ref"])
        self.transport.write(ws_frame(json.dumps(frame, separators=(",", ":")).encode()))
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.opened.done():
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(self.buf[:60]).decode()))
                return
            del self.buf[: end + 4]
            self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buf = self.buf
        pos = 0
        while len(buf) - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            at = pos + 2
            if n == 126:
                if len(buf) - pos < 4:
                    break
                n = struct.unpack_from("!H", buf, at)[0]
                at += 2
            elif n == 127:
                if len(buf) - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, at)[0]
                at += 8
            if len(buf) < at + n:
                break
            self._frame(b0 & 0x0F, buf, at, at + n)
            pos = at + n
        if pos:
            del buf[:pos]

    def _frame(self, opcode: int, buf: bytearray, start: int, end: int) -> None:
        # Server frames are never masked and, from this server, never fragmented.
        if opcode == 0x1 and end > start:
            if buf[start] == ord("{") and any(buf.find(m, start, end) >= 0 for m in self.ANSWERS):
                message = json.loads(bytes(buf[start:end]))
                if (
                    isinstance(message, dict)
                    and str(message.get("ref")) == self.ref
                    and self.waiter is not None
                    and not self.waiter.done()
                ):
                    self.waiter.set_result(message)
                    return
            elif buf[start] == ord("{") and buf.find(b'"error"', start, end) >= 0:
                # A refused frame (bad JSON, unknown type …) answers with an error object
                # that may carry no ref: it answers the frame in flight.
                message = json.loads(bytes(buf[start:end]))
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(message)
                    return
            self.skipped += 1
        elif opcode == 0x9 and self.transport is not None:  # ping: pong with its payload
            self.transport.write(ws_frame(bytes(buf[start:end]), 0xA))
        elif opcode == 0x8:
            if end - start >= 2:
                self.close_code = struct.unpack_from("!H", buf, start)[0]
            if self.transport is not None:
                with contextlib.suppress(Exception):
                    self.transport.write(ws_frame(bytes(buf[start : min(end, start + 2)]), 0x8))
                self.transport.close()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            with contextlib.suppress(Exception):
                self.transport.write(ws_frame(struct.pack("!H", 1000), 0x8))
            self.transport.close()
