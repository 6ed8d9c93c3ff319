"""Test-mode provider: fixed card numbers decide the outcome. No real money ever moves.

| card                | outcome                                                    |
|---------------------|------------------------------------------------------------|
| 4242 4242 4242 4242 | succeeds                                                   |
| 4000 0000 0000 0002 | declined (card_declined)                                   |
| 4000 0000 0000 9995 | declined (insufficient_funds)                              |
| 4000 0000 0000 0077 | pending, succeeds later by webhook                         |
| 4000 0000 0000 0341 | pending, fails later by webhook (processing_error)         |
| any other number    | declined (live_card_in_test_mode); not a valid card: 422   |

Late outcomes are signed webhooks, delivered after ``delay_s`` through the same path as a
real provider's HTTP webhook (``deliver`` callback), or at once with ``flush()`` in tests.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog

from liveshop.core.errors import Unprocessable
from liveshop.orders.payments.provider import (
    SIGNATURE_HEADER,
    CardDetails,
    ChargeOutcome,
    ProviderResult,
    WebhookEvent,
    parse_event,
    sign_payload,
    verify_signature,
)

log = structlog.get_logger("liveshop.payments.sandbox")

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT = "4000000000009995"
CARD_PENDING_SUCCEEDS = "4000000000000077"
CARD_PENDING_FAILS = "4000000000000341"

DeliverFn = Callable[[bytes, dict[str, str]], Awaitable[None]]


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        checksum += d
    return checksum % 10 == 0


@dataclass
class _Scheduled:
    body: bytes
    handle: asyncio.TimerHandle | None


class SandboxProvider:
    name = "sandbox"
    test_mode = True

    def __init__(self, secret: str, *, delay_s: float = 2) -> None:
        self._secret = secret
        self.delay_s = delay_s
        self.deliver: DeliverFn | None = None
        self._scheduled: dict[str, _Scheduled] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- charging ---------------------------------------------------------------------------
    async def authorize(
        self, *, amount_minor: int, currency: str, card: CardDetails, reference: str
    ) -> ProviderResult:
        number = card.number.replace(" ", "").replace("-", "")
        if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
            raise Unprocessable("that is not a valid card number", code="invalid-card")
        ref = "sbx_pay_" + secrets.token_hex(8)
        if number == CARD_SUCCEEDS:
            return ProviderResult(ChargeOutcome.SUCCEEDED, ref)
        if number == CARD_DECLINED:
            return ProviderResult(
                ChargeOutcome.FAILED, ref, "card_declined", "The card was declined."
            )
        if number == CARD_INSUFFICIENT:
            return ProviderResult(
                ChargeOutcome.FAILED, ref, "insufficient_funds", "The card has insufficient funds."
            )
        if number in (CARD_PENDING_SUCCEEDS, CARD_PENDING_FAILS):
            ok = number == CARD_PENDING_SUCCEEDS
            self._schedule(
                "payment.succeeded" if ok else "payment.failed",
                ref,
                {"amount_minor": amount_minor, "currency": currency, "reference": reference}
                | ({} if ok else {"failure_code": "processing_error"}),
            )
            return ProviderResult(ChargeOutcome.PENDING, ref)
        return ProviderResult(
            ChargeOutcome.FAILED,
            ref,
            "live_card_in_test_mode",
            "This is the test-mode sandbox: use a test card such as 4242 4242 4242 4242.",
        )

    async def capture(self, provider_ref: str, *, amount_minor: int) -> ProviderResult:
        return ProviderResult(ChargeOutcome.SUCCEEDED, provider_ref)

    async def void(self, provider_ref: str) -> ProviderResult:
        return ProviderResult(ChargeOutcome.SUCCEEDED, provider_ref)

    async def refund(
        self, provider_ref: str, *, amount_minor: int, reference: str
    ) -> ProviderResult:
        return ProviderResult(ChargeOutcome.SUCCEEDED, "sbx_re_" + secrets.token_hex(8))

    # -- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        verify_signature(self._secret, body, headers.get(SIGNATURE_HEADER))
        return parse_event(body)

    def signed(
        self, event_type: str, provider_ref: str, data: dict[str, object]
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body and headers exactly as the sandbox would send them."""
        body = json.dumps(
            {
                "id": "evt_" + secrets.token_hex(8),
                "type": event_type,
                "provider_ref": provider_ref,
                "data": data,
            },
            separators=(",", ":"),
        ).encode()
        return body, {SIGNATURE_HEADER: sign_payload(self._secret, body)}

    def _schedule(self, event_type: str, provider_ref: str, data: dict[str, object]) -> None:
        body, _ = self.signed(event_type, provider_ref, data)
        handle: asyncio.TimerHandle | None = None
        try:
            loop = asyncio.get_running_loop()
            if self.deliver is not None and self.delay_s >= 0:
                handle = loop.call_later(self.delay_s, self._fire, provider_ref)
        except RuntimeError:
            handle = None
        self._scheduled[provider_ref] = _Scheduled(body=body, handle=handle)

    def _fire(self, provider_ref: str) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver_one(provider_ref))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_one(self, provider_ref: str) -> None:
        item = self._scheduled.pop(provider_ref, None)
        if item is None or self.deliver is None:
            return
        if item.handle is not None:
            item.handle.cancel()
        headers = {SIGNATURE_HEADER: sign_payload(self._secret, item.body)}
        try:
            await self.deliver(item.body, headers)
        except Exception:
            log.exception("sandbox webhook delivery failed", provider_ref=provider_ref)

    def pending_webhooks(self) -> list[tuple[bytes, dict[str, str]]]:
        """Not-yet-delivered late outcomes, freshly signed (tests POST them over HTTP)."""
        return [
            (s.body, {SIGNATURE_HEADER: sign_payload(self._secret, s.body)})
            for s in self._scheduled.values()
        ]

    async def flush(self) -> int:
        """Deliver every scheduled webhook now (tests; no waiting on timers)."""
        refs = list(self._scheduled)
        for ref in refs:
            await self._deliver_one(ref)
        return len(refs)

    def cancel_all(self) -> None:
        for item in self._scheduled.values():
            if item.handle is not None:
                item.handle.cancel()
        self._scheduled.clear()
