"""The interface every payment provider implements."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from liveshop.core.errors import Problem
from liveshop.core.i18n import gettext as _

SIGNATURE_HEADER = "liveshop-signature"
SIGNATURE_TOLERANCE_S = 300


class ChargeOutcome(StrEnum):
    SUCCEEDED = "succeeded"  # authorized (or captured / refunded) now
    PENDING = "pending"  # the provider answers later with a signed webhook
    FAILED = "failed"  # declined or errored


@dataclass(frozen=True, slots=True)
class CardDetails:
    number: str
    exp_month: int | None = None
    exp_year: int | None = None
    cvc: str | None = None

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class CardToken:
    """A card the provider keeps, named by its token (Stripe's PaymentMethod ``pm_…``): pay
    with it instead of a number. ``customer`` is who it was saved for; the provider refuses
    the token for anyone else."""

    token: str
    last4: str
    customer: str


PaymentSource = CardDetails | CardToken


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """What the provider answers when it saves a card: the token and what may be shown
    (the platform keeps only these, never the number)."""

    token: str
    brand: str  # visa | mastercard | amex | discover | unknown
    last4: str
    exp_month: int
    exp_year: int


BRAND_NAMES = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
}


def card_brand(number: str) -> str:
    """The card network by its number's prefix (IIN ranges)."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or (
        len(number) >= 4 and 2221 <= int(number[:4]) <= 2720
    ):
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def brand_name(brand: str) -> str:
    return BRAND_NAMES.get(brand, "Card")


@dataclass(frozen=True, slots=True)
class ProviderResult:
    outcome: ChargeOutcome
    provider_ref: str | None
    failure_code: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    """What the provider knows of a charge it was asked for under an idempotency key.

    ``SUCCEEDED`` with ``captured=False``: authorized, the money is not taken yet (capture or
    void it); ``PENDING``: the outcome is not known yet; ``FAILED``: nothing was charged.
    """

    outcome: ChargeOutcome
    provider_ref: str
    captured: bool = False
    failure_code: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    event_id: str
    type: str  # payment.succeeded | payment.failed | refund.succeeded | refund.failed
    provider_ref: str
    data: dict[str, Any] = field(default_factory=dict)


class WebhookRejected(Problem):
    status = 400
    code = "webhook-signature-invalid"


class PaymentProvider(Protocol):
    name: str
    test_mode: bool

    async def authorize(
        self,
        *,
        amount_minor: int,
        currency: str,
        card: PaymentSource,
        reference: str,
        idempotency_key: str | None = None,
    ) -> ProviderResult:
        """Charge a card given by number, or one the provider keeps (``CardToken``).

        Asked twice with one ``idempotency_key``, the provider answers the first charge
        again and charges nothing more (Stripe's ``Idempotency-Key``)."""
        ...

    async def save_card(self, card: CardDetails, *, customer: str) -> SavedMethod:
        """Keep the card for ``customer`` and answer its token (Stripe: create a
        PaymentMethod and attach it to the Customer). A card that is not valid: 422."""
        ...

    async def forget_card(self, token: str) -> None:
        """The token can no longer be charged (Stripe: detach). Unknown tokens: no-op."""
        ...

    async def find_charge(self, idempotency_key: str) -> ChargeRecord | None:
        """The charge made under ``idempotency_key``; None when the provider never saw it
        (retrieving a Stripe PaymentIntent by the key it was created with)."""
        ...

    async def capture(self, provider_ref: str, *, amount_minor: int) -> ProviderResult: ...

    async def void(self, provider_ref: str) -> ProviderResult: ...

    async def refund(
        self, provider_ref: str, *, amount_minor: int, reference: str
    ) -> ProviderResult: ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent: ...


def sign_payload(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` (Stripe-style)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_signature(
    secret: str, body: bytes, header: str | None, *, now: float | None = None
) -> None:
    if not header:
        raise WebhookRejected(_("the webhook has no signature header"))
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise WebhookRejected(_("the webhook signature header is malformed")) from exc
    current = time.time() if now is None else now
    if abs(current - ts) > SIGNATURE_TOLERANCE_S:
        raise WebhookRejected(_("the webhook signature is too old (replay?)"))
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise WebhookRejected(_("the webhook signature does not match"))


def parse_event(body: bytes) -> WebhookEvent:
    try:
        raw = json.loads(body)
        return WebhookEvent(
            event_id=str(raw["id"]),
            type=str(raw["type"]),
            provider_ref=str(raw["provider_ref"]),
            data=dict(raw.get("data") or {}),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRejected(
            _("the webhook body is not a valid event"), code="webhook-malformed"
        ) from exc
