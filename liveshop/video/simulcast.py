"""Simulcast: a creator's stream relayed to other platforms' RTMP ingests while live.

Destinations (URL + stream key) are stored only encrypted — Fernet (``cryptography``) with a
key derived from ``LIVESHOP_SECRET_KEY`` — and are never shown again nor logged: pages and
the API show a label and the server's host name. While the creator is live, the manager runs
one ``Relay`` per destination: ffmpeg reads the stream back from the embedded media server
(the ``hls`` application, which lets this host play) and copies it, untouched, to the
destination; it is restarted with a growing pause when it drops, and its status (connecting,
live, retrying; cleared when it stops) is what the studio shows — written to the
destination's row on each change (``save_status``), so that every app process shows what the
one running the relay sees. ffmpeg's words reach the log only with
the destination's URL and key taken out.

A status is a lease: it holds until ``relay_lease_until``, which the relay's process renews
every third of ``LIVESHOP_SIMULCAST_LEASE_SECONDS`` while the relay runs. A process killed
mid-relay (kill -9, a lost machine) never clears its rows; once their lease has run out
they are read as not relaying (``relay_status``) and cleared when a process starts
(``clear_expired``) — no row says "live" forever.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext
from liveshop.core.settings import Settings
from liveshop.video.models import SimulcastDestination

log = structlog.get_logger("liveshop.video.simulcast")

MAX_DESTINATIONS = 5
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0
LIVE_AFTER_FRAMES = 1
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


# --- the short link viewers elsewhere get (``/l/<code>`` → the room) -----------------------

_ALPHABET = "0123456789abcdefghijkmnpqrstuvwxyz"  # base 34: no "l" or "o" to misread
SHORT_CODE = re.compile(rf"[{_ALPHABET}]{{1,13}}")


def short_code(session_id: int) -> str:
    """A show's short code: its id in base 34 (``/l/<code>``, said aloud or typed from a
    caption on another platform)."""
    if session_id <= 0:
        raise ValueError("a session id is positive")
    out = ""
    n = session_id
    while n:
        n, d = divmod(n, len(_ALPHABET))
        out = _ALPHABET[d] + out
    return out


def session_of_code(code: str) -> int | None:
    """The session id a short code stands for (None if it is not one)."""
    code = code.lower()
    if SHORT_CODE.fullmatch(code) is None:
        return None
    n = 0
    for ch in code:
        n = n * len(_ALPHABET) + _ALPHABET.index(ch)
    return n if 0 < n < 2**62 else None


def _fernet(settings: Settings) -> Fernet:
    digest = hashlib.sha256(b"simulcast-destinations:" + settings.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass(frozen=True)
class Target:
    url: str  # rtmp(s)://host[:port]/app
    key: str

    @property
    def publish_url(self) -> str:
        return f"{self.url.rstrip('/')}/{self.key}"


def check_target(url: str, key: str) -> str:
    """The host of a valid destination; 422 otherwise (nothing echoed back)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname:
        raise Unprocessable(
            gettext("the server URL must look like rtmp://host/app (or rtmps://)"),
            code="simulcast-url-invalid",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise Unprocessable(
            gettext("put the stream key in its own field, not in the URL"),
            code="simulcast-url-invalid",
        )
    if not _HOST.fullmatch(parts.hostname) and not _HOST.fullmatch(f"[{parts.hostname}]"):
        raise Unprocessable(
            gettext("the server URL's host is not valid"), code="simulcast-url-invalid"
        )
    if not key.strip() or any(c.isspace() for c in key.strip()) or len(key) > 512:
        raise Unprocessable(
            gettext("the stream key is missing or not valid"), code="simulcast-key-invalid"
        )
    return parts.hostname


def seal(settings: Settings, target: Target) -> str:
    payload = json.dumps({"url": target.url, "key": target.key}).encode()
    return _fernet(settings).encrypt(payload).decode()


def unseal(settings: Settings, secret: str) -> Target | None:
    try:
        data = json.loads(_fernet(settings).decrypt(secret.encode()))
    except (InvalidToken, ValueError):
        return None  # written under another secret key: the creator adds it again
    return Target(str(data["url"]), str(data["key"]))


async def add_destination(
    session: AsyncSession, settings: Settings, *, creator_id: int, label: str, url: str, key: str
) -> SimulcastDestination:
    host = check_target(url, key)
    count = len(await destinations_of(session, creator_id))
    if count >= MAX_DESTINATIONS:
        raise Unprocessable(
            gettext("at most %(max_destinations)s destinations", max_destinations=MAX_DESTINATIONS),
            code="simulcast-too-many",
        )
    row = SimulcastDestination(
        creator_id=creator_id,
        label=label.strip() or host,
        host=host,
        secret=seal(settings, Target(url.strip(), key.strip())),
    )
    session.add(row)
    await session.commit()
    return row


async def destinations_of(session: AsyncSession, creator_id: int) -> Sequence[SimulcastDestination]:
    rows = await session.scalars(
        select(SimulcastDestination)
        .where(SimulcastDestination.creator_id == creator_id)
        .order_by(SimulcastDestination.id)
    )
    return rows.all()


async def remove_destination(session: AsyncSession, *, creator_id: int, dest_id: int) -> int:
    row = await session.get(SimulcastDestination, dest_id)
    if row is None or row.creator_id != creator_id:
        raise NotFound(gettext("no such destination"), code="simulcast-not-found")
    await session.delete(row)
    await session.commit()
    return dest_id


StatusSink = Callable[[int, dict[str, Any] | None], Awaitable[None]]


async def save_status(
    session: AsyncSession, dest_id: int, status: dict[str, Any] | None, *, lease_s: float
) -> None:
    """Keep a relay's status on its destination for ``lease_s`` seconds (renewed by saving it
    again; None: not relaying). Commits."""
    lease_until = utcnow() + timedelta(seconds=lease_s) if status else None
    status = status or {}
    since = status.get("since")
    await session.execute(
        update(SimulcastDestination)
        .where(SimulcastDestination.id == dest_id)
        .values(
            relay_state=status.get("state"),
            relay_attempts=int(status.get("attempts") or 0),
            relay_error=(status.get("error") or None) and str(status["error"])[:300],
            relay_since=datetime.fromtimestamp(since, UTC) if since else None,
            relay_lease_until=lease_until,
        )
    )
    await session.commit()


@dataclass(frozen=True, slots=True)
class RelayStatus:
    state: str  # connecting, live, retrying
    attempts: int
    error: str | None


def relay_status(row: SimulcastDestination, now: datetime) -> RelayStatus | None:
    """The relay's status as its process last saved it, or None when nothing relays: no
    status, or one whose lease ran out (its process died without clearing it)."""
    if row.relay_state is None or row.relay_lease_until is None or row.relay_lease_until <= now:
        return None
    return RelayStatus(row.relay_state, row.relay_attempts or 0, row.relay_error)


async def clear_expired(session: AsyncSession, now: datetime) -> int:
    """Clear the statuses whose lease ran out (their process died mid-relay); a running
    relay's, renewed in time, are left alone whichever process runs it. Commits."""
    expired = await session.execute(
        update(SimulcastDestination)
        .where(SimulcastDestination.relay_state.is_not(None))
        .where(
            (SimulcastDestination.relay_lease_until.is_(None))
            | (SimulcastDestination.relay_lease_until <= now)
        )
        .values(
            relay_state=None,
            relay_attempts=0,
            relay_error=None,
            relay_since=None,
            relay_lease_until=None,
        )
        .returning(SimulcastDestination.id)
    )
    cleared = len(expired.all())
    await session.commit()
    return cleared


@dataclass
class Relay:
    """One destination's ffmpeg while the creator is live (restarted when it drops)."""

    dest_id: int
    label: str
    host: str
    source: str
    target: Target
    state: str = "connecting"  # connecting, live, retrying, stopped
    attempts: int = 0
    error: str | None = None
    since: float = field(default_factory=time.time)
    on_change: StatusSink | None = None  # told each change (``save_status``)
    renew_every_s: float | None = None  # and told again this often (the status's lease)
    _task: asyncio.Task[None] | None = None
    _renewing: asyncio.Task[None] | None = None
    _proc: asyncio.subprocess.Process | None = None
    _writing: asyncio.Lock = field(default_factory=asyncio.Lock)
    _written: tuple[Any, ...] | None = None
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _stopped: bool = False

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "attempts": self.attempts,
            "error": self.error,
            "since": self.since,
        }

    def redact(self, text: str) -> str:
        for secret in (self.target.publish_url, self.target.key, self.target.url):
            if secret:
                text = text.replace(secret, "…")
        return text

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        if self.on_change is not None and self.renew_every_s:
            self._renewing = loop.create_task(self._renew(self.renew_every_s))
        self._tell()

    async def _renew(self, every_s: float) -> None:
        """Save the status again every ``every_s`` seconds: its lease holds while we run."""
        while True:
            await asyncio.sleep(every_s)
            await self._write(again=True)

    def _set(self, state: str, error: str | None = None) -> None:
        if state != self.state:
            self.state, self.since = state, time.time()
            log.info("simulcast", destination=self.dest_id, host=self.host, state=state)
        if error is not None:
            self.error = error
        self._tell()

    def _tell(self) -> None:
        """Write the status if it changed (in the background; the last one written wins)."""
        if self.on_change is None or self._stopped:
            return
        if (self.state, self.attempts, self.error) == self._written:
            return
        task = asyncio.get_running_loop().create_task(self._write())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, *, again: bool = False) -> None:
        assert self.on_change is not None
        async with self._writing:
            now = None if self._stopped else (self.state, self.attempts, self.error)
            if now == self._written and not (again and now is not None):
                return
            try:
                await self.on_change(self.dest_id, None if now is None else self.status())
            except Exception:
                log.exception("simulcast status not saved", destination=self.dest_id)
                return
            self._written = now

    async def _run(self) -> None:
        pause = RETRY_MIN_S
        while True:
            self.attempts += 1
            started = time.monotonic()
            err = await self._once()
            if time.monotonic() - started > 30:
                pause = RETRY_MIN_S
            self._set("retrying", self.redact(err) or "the connection ended")
            log.warning(
                "simulcast relay stopped; retrying",
                destination=self.dest_id,
                host=self.host,
                why=self.error,
                retry_in_s=pause,
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_S)

    async def _once(self) -> str:
        self._set("connecting" if self.state != "retrying" else "retrying")
        proc = self._proc = await asyncio.create_subprocess_exec(
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-rw_timeout", "10000000", "-i", self.source,
            "-c", "copy", "-f", "flv", "-progress", "pipe:1", "-nostats",
            self.target.publish_url,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        errors = asyncio.ensure_future(proc.stderr.read())
        try:
            while line := await proc.stdout.readline():
                key, _, value = line.decode(errors="replace").strip().partition("=")
                if key == "frame" and value.isdigit() and int(value) >= LIVE_AFTER_FRAMES:
                    self._set("live")
                    self.error = None
            await proc.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
            errors.cancel()
            raise
        text = (await errors).decode(errors="replace").strip().splitlines()
        return text[-1] if text else f"ffmpeg exited ({proc.returncode})"

    async def stop(self) -> None:
        for task in (self._renewing, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._renewing = None
        self._set("stopped")
        self._stopped = True
        if self.on_change is not None:
            await self._write()  # cleared: not relaying


def relays_for(
    settings: Settings,
    rows: Sequence[SimulcastDestination],
    *,
    source: str,
    on_change: StatusSink | None = None,
) -> list[Relay]:
    """A relay per readable destination; with ``on_change``, each status is saved on every
    change and renewed every third of the lease (``simulcast_lease_seconds``)."""
    renew_every_s = settings.simulcast_lease_seconds / 3
    out = []
    for row in rows:
        target = unseal(settings, row.secret)
        if target is None:
            log.warning("simulcast destination unreadable (secret key changed)", id=row.id)
            continue
        out.append(
            Relay(
                row.id,
                row.label,
                row.host,
                source,
                target,
                on_change=on_change,
                renew_every_s=renew_every_s,
            )
        )
    return out
