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

Like a real provider, the sandbox remembers every charge by the caller's idempotency key
(``sandbox_charges.ChargeBook``: in the database when given one, so the record outlives a
crash of liveshop), answers a repeated key with the first charge, and can be asked about a
charge afterwards (``find_charge``). The charge is recorded BEFORE the sandbox answers.
``pause_file`` (tests only): while that file exists, ``authorize`` has recorded the charge but
does not answer — a test can kill the server at exactly that moment.

Saved cards (Stripe's PaymentMethods): ``save_card`` keeps a test card for a customer in the
sandbox's own table (``sandbox_payment_methods``, module ``sandbox_methods``) and answers a
``pm_…`` token; ``authorize`` with a ``CardToken`` charges it exactly as its number would be
charged (the decline numbers still decline, the pending ones still settle by webhook), and
declines it (``expired_card``) once its expiry month has passed. Only the test numbers above
can be saved: a sandbox keeps no real card number. A token is charged only for the customer
it was saved for.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext
from liveshop.orders.payments import sandbox_charges as book
from liveshop.orders.payments import sandbox_methods as methods
from liveshop.orders.payments.provider import (
    SIGNATURE_HEADER,
    CardDetails,
    CardToken,
    ChargeOutcome,
    ChargeRecord,
    PaymentSource,
    ProviderResult,
    SavedMethod,
    WebhookEvent,
    card_brand,
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
TEST_CARDS = frozenset(
    {CARD_SUCCEEDS, CARD_DECLINED, CARD_INSUFFICIENT, CARD_PENDING_SUCCEEDS, CARD_PENDING_FAILS}
)

PAUSE_POLL = timedelta(milliseconds=20)

DeliverFn = Callable[[bytes, dict[str, str]], Awaitable[None]]


MESSAGES = {
    "card_declined": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "live_card_in_test_mode": (
        "This is the test-mode sandbox: use a test card such as 4242 4242 4242 4242."
    ),
    "expired_card": "The card has expired.",
}


def _answer(charge: book.Charge) -> ProviderResult:
    """What ``authorize`` says about a charge (the same whenever its key is asked again)."""
    if charge.status == book.FAILED:
        code = charge.failure_code or "card_declined"
        return ProviderResult(
            ChargeOutcome.FAILED, charge.provider_ref, code, MESSAGES.get(code, "")
        )
    if charge.status == book.PENDING:
        return ProviderResult(ChargeOutcome.PENDING, charge.provider_ref)
    return ProviderResult(ChargeOutcome.SUCCEEDED, charge.provider_ref)


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


def card_number(card: CardDetails) -> str:
    """The card's digits; 422 unless it could be a card number (length, Luhn)."""
    number = card.number.replace(" ", "").replace("-", "")
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
        raise Unprocessable(gettext("that is not a valid card number"), code="invalid-card")
    return number


def expired(exp_month: int, exp_year: int, now: datetime) -> bool:
    """A card is good until the end of its expiry month."""
    return (exp_year, exp_month) < (now.year, now.month)


@dataclass
class _Scheduled:
    body: bytes
    handle: asyncio.TimerHandle | None


class SandboxProvider:
    name = "sandbox"
    test_mode = True

    def __init__(
        self,
        secret: str,
        *,
        delay_s: float = 2,
        db: Database | None = None,
        pause_file: Path | None = None,
    ) -> None:
        self._secret = secret
        self.delay_s = delay_s
        self.deliver: DeliverFn | None = None
        self.charges = book.ChargeBook(db)
        self.methods = methods.MethodBook(db)
        self.pause_file = pause_file
        self._scheduled: dict[str, _Scheduled] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- charging ---------------------------------------------------------------------------
    async def authorize(
        self,
        *,
        amount_minor: int,
        currency: str,
        card: PaymentSource,
        reference: str,
        idempotency_key: str | None = None,
    ) -> ProviderResult:
        number = card_number(card) if isinstance(card, CardDetails) else ""
        key = idempotency_key or "sbx_key_" + secrets.token_hex(8)
        earlier = await self.charges.find(key)
        if earlier is not None:
            return _answer(earlier)  # the same key again: the first charge, nothing more
        failure = None
        if isinstance(card, CardToken):  # a saved card charges as its number would
            saved = await self._saved(card)
            number = saved.number
            if expired(saved.exp_month, saved.exp_year, utcnow()):
                failure = "expired_card"
        charge = await self.charges.add(
            self._decide(number, key, amount_minor, currency, failure=failure)
        )
        await self._paused()
        if charge.status == book.PENDING:
            ok = charge.settles_to == book.CAPTURED
            self._schedule(
                "payment.succeeded" if ok else "payment.failed",
                charge.provider_ref,
                {"amount_minor": amount_minor, "currency": currency, "reference": reference}
                | ({} if ok else {"failure_code": "processing_error"}),
            )
        return _answer(charge)

    async def _saved(self, card: CardToken) -> methods.Method:
        saved = await self.methods.find(card.token)
        if saved is None or saved.customer != card.customer:
            raise Unprocessable(
                gettext("that saved card is not on file with the payment provider"),
                code="payment-method-unknown",
            )
        return saved

    def _decide(
        self, number: str, key: str, amount_minor: int, currency: str, *, failure: str | None
    ) -> book.Charge:
        ref = "sbx_pay_" + secrets.token_hex(8)
        charge = book.Charge(key, ref, book.AUTHORIZED, amount_minor, currency)
        if failure is not None:
            return replace(charge, status=book.FAILED, failure_code=failure)
        if number == CARD_SUCCEEDS:
            return charge
        if number in (CARD_PENDING_SUCCEEDS, CARD_PENDING_FAILS):
            return replace(
                charge,
                status=book.PENDING,
                settles_to=book.CAPTURED if number == CARD_PENDING_SUCCEEDS else book.FAILED,
                settles_at=utcnow() + timedelta(seconds=max(self.delay_s, 0)),
            )
        declines = {CARD_DECLINED: "card_declined", CARD_INSUFFICIENT: "insufficient_funds"}
        return replace(
            charge, status=book.FAILED, failure_code=declines.get(number, "live_card_in_test_mode")
        )

    async def _paused(self) -> None:
        """Tests only: poll the pause file (another process removes it; nothing to await)."""
        if self.pause_file is None:
            return
        while True:
            if not self.pause_file.exists():
                return
            await asyncio.sleep(PAUSE_POLL.total_seconds())

    # -- saved cards ------------------------------------------------------------------------
    async def save_card(self, card: CardDetails, *, customer: str) -> SavedMethod:
        number = card_number(card)
        if card.exp_month is None or card.exp_year is None:
            raise Unprocessable(
                gettext("give the card's expiry month and year"), code="invalid-expiry"
            )
        if not 1 <= card.exp_month <= 12:
            raise Unprocessable(gettext("the expiry month is 1 to 12"), code="invalid-expiry")
        if expired(card.exp_month, card.exp_year, utcnow()):
            raise Unprocessable(gettext("the card has expired"), code="card-expired")
        if number not in TEST_CARDS:
            raise Unprocessable(MESSAGES["live_card_in_test_mode"], code="live-card-in-test-mode")
        saved = SavedMethod(
            token="pm_" + secrets.token_hex(12),
            brand=card_brand(number),
            last4=number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )
        await self.methods.add(
            methods.Method(
                saved.token, customer, number, saved.brand, saved.exp_month, saved.exp_year
            )
        )
        return saved

    async def forget_card(self, token: str) -> None:
        await self.methods.remove(token)

    async def find_charge(self, idempotency_key: str) -> ChargeRecord | None:
        found = await self.charges.find(idempotency_key)
        if found is None:
            return None
        charge = found.settled(utcnow())
        outcome = {
            book.AUTHORIZED: ChargeOutcome.SUCCEEDED,
            book.CAPTURED: ChargeOutcome.SUCCEEDED,
            book.PENDING: ChargeOutcome.PENDING,
        }.get(charge.status, ChargeOutcome.FAILED)
        return ChargeRecord(
            outcome,
            charge.provider_ref,
            captured=charge.status == book.CAPTURED,
            failure_code=charge.failure_code,
        )

    async def capture(self, provider_ref: str, *, amount_minor: int) -> ProviderResult:
        await self.charges.move(provider_ref, from_status=book.AUTHORIZED, to=book.CAPTURED)
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
