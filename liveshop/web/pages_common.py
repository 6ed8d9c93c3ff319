"""Helpers shared by the page modules."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from liveshop.accounts.service import Principal
from liveshop.core.db import Database
from liveshop.core.errors import NotFound
from liveshop.core.i18n import gettext as _
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.web.templating import render


def new_idempotency_key() -> str:
    """One per rendered checkout form: submitting it twice replays the same order."""
    return "web-" + secrets.token_urlsafe(18)


def payment_provider(request: Request, name: str = "sandbox") -> PaymentProvider:
    providers: dict[str, PaymentProvider] = request.app.state.payment_providers
    if name not in providers:
        raise NotFound(_("no payment provider %(name)s", name=repr(name)), code="unknown-provider")
    return providers[name]


async def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    """An error page in the layout; uses its own session (the request's one has failed)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    db: Database = request.app.state.db
    async with db.session(deferred=True) as session:
        return await render(
            request,
            session,
            principal,
            "error.html",
            {"status": status, "title": title, "detail": detail},
            status_code=status,
        )
