"""The buyer's saved cards: ``/api/v1/me/cards`` (pay with them: ``saved_card_id`` or
``use_default_card`` on ``POST /orders/{id}/pay`` and the room's one-tap buy)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from liveshop.accounts.deps import BuyerPrincipal, SessionDep
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id
from liveshop.orders import saved_cards
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.router import provider_of
from liveshop.orders.schemas import SavedCardIn, SavedCardOut

router = APIRouter(prefix="/api/v1/me/cards", tags=["payment methods"], responses=PROBLEM_RESPONSES)

CardId = Id


@router.get("")
async def list_cards(principal: BuyerPrincipal, session: SessionDep) -> list[SavedCardOut]:
    """Your saved cards, the default first."""
    return [SavedCardOut.of(c) for c in await saved_cards.list_cards(session, principal.user_id)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def save_card(
    body: SavedCardIn, request: Request, principal: BuyerPrincipal, session: SessionDep
) -> SavedCardOut:
    """Save a card with the payment provider (liveshop keeps its token, brand, last four
    digits and expiry — never the number). Your first card becomes the default. Test mode:
    only the sandbox's test cards can be saved."""
    card = await saved_cards.save_card(
        session,
        provider_of(request),
        buyer_id=principal.user_id,
        card=CardDetails(
            body.card_number.replace(" ", "").replace("-", ""),
            body.exp_month,
            body.exp_year,
            body.cvc,
        ),
        make_default=body.make_default,
    )
    return SavedCardOut.of(card)


@router.post("/{card_id}/default")
async def make_default(
    card_id: CardId, principal: BuyerPrincipal, session: SessionDep
) -> SavedCardOut:
    card = await saved_cards.set_default(session, buyer_id=principal.user_id, card_id=card_id)
    return SavedCardOut.of(card)


@router.delete("/{card_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_card(
    card_id: CardId, request: Request, principal: BuyerPrincipal, session: SessionDep
) -> None:
    """The provider forgets the card too. When it was your default, your newest card left
    becomes the default."""
    await saved_cards.delete_card(
        session, provider_of(request), buyer_id=principal.user_id, card_id=card_id
    )
