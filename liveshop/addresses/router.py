"""The buyer's address book over the API (``/api/v1/me/addresses``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from liveshop.accounts.deps import BuyerPrincipal, SessionDep
from liveshop.addresses import service
from liveshop.addresses.schemas import AddressIn, AddressOut
from liveshop.core.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["addresses"], responses=PROBLEM_RESPONSES)

AddressId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/me/addresses")
async def list_addresses(principal: BuyerPrincipal, session: SessionDep) -> list[AddressOut]:
    """Your delivery addresses; per country the default first."""
    return [AddressOut.of(a) for a in await service.list_addresses(session, principal.user_id)]


@router.post("/me/addresses", status_code=status.HTTP_201_CREATED)
async def add_address(
    body: AddressIn, principal: BuyerPrincipal, session: SessionDep
) -> AddressOut:
    """Add an address (your first in a country becomes that country's default)."""
    address = await service.add_address(
        session, user_id=principal.user_id, data=body.fields(), make_default=body.make_default
    )
    return AddressOut.of(address)


@router.post("/me/addresses/{address_id}/default")
async def make_default(
    address_id: AddressId, principal: BuyerPrincipal, session: SessionDep
) -> AddressOut:
    """Checkout and the room's one-tap buy in that country deliver here from now on."""
    address = await service.set_default(session, user_id=principal.user_id, address_id=address_id)
    return AddressOut.of(address)


@router.delete("/me/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_address(
    address_id: AddressId, principal: BuyerPrincipal, session: SessionDep
) -> None:
    """Past orders keep the address they were sent to."""
    await service.delete_address(session, user_id=principal.user_id, address_id=address_id)
