"""Access declarations of the video routes that are neither user- nor role-based.

Both carry ``ACCESS_MARK`` like ``liveshop.accounts.deps`` so the every-route-declares-
its-access test sees them.

- ``InternalCaller``: the media server's callbacks. The request must carry the callback
  secret (``?s=``, written into nginx.conf) and — with the embedded provider — come
  straight from this host: loopback address and no proxy headers (a reverse proxy on the
  same host would otherwise make every outside request look local).
- ``PublicFile``: anyone, without resolving a session cookie or token: HLS segments are
  fetched every second or two by every viewer and must not cost a database query.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from liveshop.accounts.deps import ACCESS_MARK
from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import Settings
from liveshop.video.provider import callback_secret

PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def internal_only(request: Request) -> None:
    settings: Settings = request.app.state.settings
    sent = request.query_params.get("s", "")
    secret_ok = hmac.compare_digest(sent.encode(), callback_secret(settings).encode())
    host = request.client.host if request.client is not None else ""
    local = _loopback(host) and not any(h in request.headers for h in PROXY_HEADERS)
    if not secret_ok or not (local or settings.video_provider == "external"):
        raise Forbidden(_("this endpoint is for the media server only"), code="internal-only")


async def public_file() -> None:
    return None


setattr(internal_only, ACCESS_MARK, "internal")
setattr(public_file, ACCESS_MARK, "public")

InternalCaller = Annotated[None, Depends(internal_only)]
PublicFile = Annotated[None, Depends(public_file)]
