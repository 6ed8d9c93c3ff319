"""Tracking webhooks are signed like Stripe's: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">``. A receiver checks the signature in constant time and refuses a timestamp
more than ``TOLERANCE_S`` from its clock (a captured request cannot be replayed later); inside
the window a replay is harmless because each event id is recorded once."""

from __future__ import annotations

import hashlib
import hmac
import time

from liveshop.core.errors import Problem

SIGNATURE_HEADER = "Carrier-Signature"
TOLERANCE_S = 300


def secret_for(secret_key: str, carrier: str) -> str:
    """The carrier's webhook secret, derived from the app's secret key."""
    return hashlib.sha256(f"carrier-webhooks:{carrier}:{secret_key}".encode()).hexdigest()


def sign(secret: str, body: bytes, *, at: float | None = None) -> str:
    t = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _bad(detail: str, code: str) -> Problem:
    return Problem(detail, status=400, code=code)


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> int:
    """The signed timestamp, or 400 (``bad-signature`` / ``stale-webhook``)."""
    if not header:
        raise _bad("the webhook is not signed", "bad-signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise _bad("the signature header is malformed", "bad-signature") from None
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, given):
        raise _bad("the webhook signature does not match", "bad-signature")
    clock = time.time() if now is None else now
    if abs(clock - t) > TOLERANCE_S:
        raise _bad("the webhook's timestamp is too old or in the future", "stale-webhook")
    return t
