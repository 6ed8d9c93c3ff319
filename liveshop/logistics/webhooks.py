"""Receiving a carrier's tracking webhook: verify the HMAC signature and timestamp, parse,
apply once (``shipments.apply_event``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Problem
from liveshop.core.i18n import gettext as _
from liveshop.logistics import signing
from liveshop.logistics.models import TrackingStatus
from liveshop.logistics.returns import apply_return_event
from liveshop.logistics.shipments import CarrierEvent, apply_event
from liveshop.orders.payments.provider import PaymentProvider


def body_of(event: CarrierEvent) -> bytes:
    """The JSON a carrier sends for one event."""
    return json.dumps(
        {
            "id": event.event_id,
            "type": "tracking.updated",
            "tracking_number": event.tracking_number,
            "status": str(event.status),
            "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
            "description": event.description,
            "location": event.location,
        },
        separators=(",", ":"),
    ).encode()


def parse(carrier: str, body: bytes) -> CarrierEvent:
    try:
        data = json.loads(body)
        occurred = datetime.fromisoformat(str(data["occurred_at"]))
        if occurred.tzinfo is None:
            raise ValueError("naive time")
        return CarrierEvent(
            carrier=carrier,
            event_id=str(data["id"])[:80],
            tracking_number=str(data["tracking_number"])[:80],
            status=TrackingStatus(str(data["status"])),
            occurred_at=occurred.astimezone(UTC),
            description=str(data.get("description", ""))[:200],
            location=str(data.get("location", ""))[:120],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise Problem(
            _("the webhook body is not valid: %(exc)s", exc=exc), status=400, code="bad-webhook"
        ) from None


async def handle_tracking_webhook(
    session: AsyncSession,
    *,
    carrier: str,
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    provider: PaymentProvider,
    now: float | None = None,
) -> str:
    """'processed', 'duplicate' or 'ignored'; 400 for a bad signature, a stale timestamp or
    a malformed body (nothing changes). An outbound parcel's event first; else a return
    parcel's (``returns.apply_return_event``). A lost parcel is refunded via ``provider``."""
    signing.verify(secret, body, headers.get(signing.SIGNATURE_HEADER), now=now)
    event = parse(carrier, body)
    result = await apply_event(session, event, provider=provider)
    if result == "ignored":
        result = await apply_return_event(session, event)
    return result
