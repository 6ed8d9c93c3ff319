"""How the buyer chose to pay, as the provider will be asked to charge it.

One rule for every endpoint that pays (``POST /orders/{id}/pay``, the room's one-tap buy):
give at most one of ``card_number`` (a card typed in), ``saved_card_id`` (one of the
buyer's saved cards) or ``use_default_card: true``. Someone else's saved card is as missing
as one that never existed (404), before anything is held or charged.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.orders import saved_cards
from liveshop.orders.payments.provider import CardDetails, PaymentProvider, PaymentSource
from liveshop.orders.saved_cards import SavedCard


class PaymentChoice(Protocol):
    """The fields a pay request carries (``PayIn``, the room's ``RoomBuyIn``)."""

    @property
    def card_number(self) -> str | None: ...

    @property
    def saved_card_id(self) -> int | None: ...

    @property
    def use_default_card(self) -> bool: ...


async def payment_source(
    session: AsyncSession,
    provider: PaymentProvider,
    buyer_id: int,
    choice: PaymentChoice,
    *,
    exp_month: int | None = None,
    exp_year: int | None = None,
    cvc: str | None = None,
) -> PaymentSource | None:
    """The card to charge, or None when the request names none."""
    given = [
        name
        for name, value in (
            ("card_number", choice.card_number),
            ("saved_card_id", choice.saved_card_id),
            ("use_default_card", choice.use_default_card or None),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise Unprocessable(
            _("pay one way: give only one of %(join)s", join=", ".join(given)),
            code="payment-method-ambiguous",
        )
    if choice.card_number is not None:
        number = choice.card_number.replace(" ", "").replace("-", "")
        return CardDetails(number, exp_month, exp_year, cvc)
    if (exp_month, exp_year, cvc) != (None, None, None):
        raise Unprocessable(
            _("exp_month, exp_year and cvc go with card_number only"),
            code="payment-method-ambiguous",
        )
    if choice.saved_card_id is not None:
        card = await saved_cards.get_card(session, buyer_id, choice.saved_card_id)
        return saved_source(card, provider)
    if choice.use_default_card:
        return saved_source(await saved_cards.default_card(session, buyer_id), provider)
    return None


def saved_source(card: SavedCard | None, provider: PaymentProvider) -> PaymentSource:
    """What ``provider`` is asked to charge for a saved card (None: the buyer's default, which
    they have not saved yet: 409)."""
    if card is None:
        raise Conflict(_("you have no saved card yet"), code="no-default-card")
    if card.provider != provider.name:
        raise Conflict(
            _(
                "that card is saved with %(provider)s, not %(name)s",
                provider=card.provider,
                name=provider.name,
            ),
            code="saved-card-other-provider",
        )
    return saved_cards.token_of(card)


async def required_payment_source(
    session: AsyncSession,
    provider: PaymentProvider,
    buyer_id: int,
    choice: PaymentChoice,
    *,
    exp_month: int | None = None,
    exp_year: int | None = None,
    cvc: str | None = None,
) -> PaymentSource:
    """The card to charge; 422 when the request names none."""
    source = await payment_source(
        session, provider, buyer_id, choice, exp_month=exp_month, exp_year=exp_year, cvc=cvc
    )
    if source is None:
        raise Unprocessable(
            _("give card_number, saved_card_id or use_default_card: true"),
            code="payment-method-required",
        )
    return source
