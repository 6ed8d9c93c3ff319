"""One-shot messages shown on the page after a redirect (post → redirect → get).

They travel in a short-lived cookie signed with the secret key, so another site cannot put
words in liveshop's mouth; the next page that renders them deletes the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from liveshop.core.settings import get_settings

COOKIE = "liveshop_flash"
Level = Literal["success", "info", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    level: Level
    text: str


def _sign(payload: bytes) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"flash:" + payload, hashlib.sha256).hexdigest()[:32]


def _encode(messages: list[Flash]) -> str:
    raw = json.dumps([[m.level, m.text[:500]] for m in messages]).encode()
    payload = base64.urlsafe_b64encode(raw).decode()
    return f"{payload}.{_sign(payload.encode())}"


def _decode(value: str) -> list[Flash]:
    payload, _, sig = value.rpartition(".")
    if not payload or not hmac.compare_digest(sig, _sign(payload.encode())):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return []
    out: list[Flash] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, list) and len(item) == 2 and item[0] in ("success", "info", "error"):
            out.append(Flash(level=item[0], text=str(item[1])))
    return out


def set_flash(response: Response, level: Level, text: str) -> None:
    response.set_cookie(
        COOKIE,
        _encode([Flash(level, text)]),
        max_age=60,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        path="/",
    )


def read_flashes(request: Request) -> list[Flash]:
    """The messages waiting for this page (``clear_flashes`` on its response drops them)."""
    value = request.cookies.get(COOKIE)
    return _decode(value) if value else []


def clear_flashes(request: Request, response: Response) -> None:
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/")


def redirect(url: str, *, flash: tuple[Level, str] | None = None) -> RedirectResponse:
    """303 See Other (a POST's answer becomes a GET), optionally with a message."""
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        set_flash(response, *flash)
    return response
