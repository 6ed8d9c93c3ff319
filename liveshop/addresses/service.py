"""The address book: add, list, choose the default (one per country), delete; and the copy
of an address an order keeps (``ShipTo``).

Every change to one buyer's book runs under a lock of the buyer's row, so two at once (two
first addresses, two "make default" taps) queue instead of racing; the database also holds
at most one default per buyer and country (a partial unique index).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.addresses.models import Address
from liveshop.addresses.validation import ADDRESS_FIELDS, CleanAddress, validate_address
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _

MAX_ADDRESSES = 20  # per buyer


@dataclass(frozen=True, slots=True)
class ShipTo:
    """Where an order goes: the address as it was when the order was placed."""

    address_id: int | None
    address: CleanAddress


def clean_of(address: Address) -> CleanAddress:
    return CleanAddress(**{name: getattr(address, name) for name in ADDRESS_FIELDS})


async def list_addresses(
    session: AsyncSession, user_id: int, *, country: str | None = None
) -> list[Address]:
    """The buyer's addresses: per country the default first, then the newest."""
    query = select(Address).where(Address.user_id == user_id)
    if country is not None:
        query = query.where(Address.country_code == country.upper())
    rows = await session.scalars(
        query.order_by(Address.country_code, Address.is_default.desc(), Address.id.desc())
    )
    return list(rows)


async def get_address(session: AsyncSession, user_id: int, address_id: int) -> Address:
    """The buyer's own address; another buyer's is as missing as one that never existed."""
    found = await session.scalar(
        select(Address).where(Address.id == address_id, Address.user_id == user_id)
    )
    if found is None:
        raise NotFound(
            _("address %(address_id)s does not exist", address_id=address_id),
            code="address-not-found",
        )
    return found


async def default_address(session: AsyncSession, user_id: int, country: str) -> Address | None:
    found: Address | None = await session.scalar(
        select(Address).where(
            Address.user_id == user_id,
            Address.country_code == country.upper(),
            Address.is_default,
        )
    )
    return found


async def _lock_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def _clear_default(session: AsyncSession, user_id: int, country: str) -> None:
    await session.execute(
        update(Address)
        .where(Address.user_id == user_id, Address.country_code == country, Address.is_default)
        .values(is_default=False)
    )


async def add_address(
    session: AsyncSession,
    *,
    user_id: int,
    data: Mapping[str, str | None],
    make_default: bool = False,
) -> Address:
    """Validate (422 naming the field) and keep the address. The buyer's first address in a
    country becomes that country's default; a later one only when ``make_default``."""
    clean = validate_address(dict(data))
    await _lock_user(session, user_id)
    count = await session.scalar(
        select(func.count()).select_from(Address).where(Address.user_id == user_id)
    )
    if int(count or 0) >= MAX_ADDRESSES:
        raise Conflict(
            _(
                "you can keep at most %(max_addresses)s addresses: delete one first",
                max_addresses=MAX_ADDRESSES,
            ),
            code="too-many-addresses",
            limit=MAX_ADDRESSES,
        )
    has_default = await default_address(session, user_id, clean.country_code) is not None
    if make_default and has_default:
        await _clear_default(session, user_id, clean.country_code)
    address = Address(
        user_id=user_id, is_default=make_default or not has_default, **clean.as_dict()
    )
    session.add(address)
    await session.commit()
    return address


async def set_default(session: AsyncSession, *, user_id: int, address_id: int) -> Address:
    """The address becomes the default of its country (404 for anyone else's)."""
    await _lock_user(session, user_id)
    address = await get_address(session, user_id, address_id)
    if not address.is_default:
        await _clear_default(session, user_id, address.country_code)  # first: one at a time
        address.is_default = True
    await session.commit()
    return address


async def delete_address(session: AsyncSession, *, user_id: int, address_id: int) -> None:
    """Forget the address (404 for anyone else's). Orders keep their own copy, so no order
    changes. When it was its country's default, the newest one left there takes over."""
    await _lock_user(session, user_id)
    address = await get_address(session, user_id, address_id)
    country, was_default = address.country_code, address.is_default
    await session.execute(delete(Address).where(Address.id == address.id))
    if was_default:
        newest = (
            select(Address.id)
            .where(Address.user_id == user_id, Address.country_code == country)
            .order_by(Address.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        await session.execute(update(Address).where(Address.id == newest).values(is_default=True))
    await session.commit()


# -- what an order ships to ---------------------------------------------------------------
async def default_address_snapshot(
    session: AsyncSession, user_id: int, market: str
) -> ShipTo | None:
    """The buyer's default address in the market's country, as an order keeps it (None when
    they have none there). Reads only; for any checkout path (cart, buy now, drop claims)."""
    address = await default_address(session, user_id, market)
    return None if address is None else ShipTo(address.id, clean_of(address))


async def default_address_snapshots(
    session: AsyncSession, user_ids: Collection[int], market: str
) -> dict[int, ShipTo]:
    """``default_address_snapshot`` for many buyers in one read (a drop's batch of paying
    buyers): buyer → their default address in the market's country (absent: none there)."""
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(Address).where(
            Address.user_id.in_(set(user_ids)),
            Address.country_code == market.upper(),
            Address.is_default,
        )
    )
    return {a.user_id: ShipTo(a.id, clean_of(a)) for a in rows.all()}


async def address_snapshot(
    session: AsyncSession, user_id: int, address_id: int, market: str
) -> ShipTo:
    """The buyer's address ``address_id`` for an order in ``market``: 404 for anyone else's,
    422 ``address-wrong-country`` when it is not in the market's country."""
    address = await get_address(session, user_id, address_id)
    if address.country_code != market.upper():
        raise Unprocessable(
            _(
                "this market delivers to %(upper)s only; the address is in %(country_code)s",
                upper=market.upper(),
                country_code=address.country_code,
            ),
            code="address-wrong-country",
            field="address_id",
        )
    return ShipTo(address.id, clean_of(address))


async def ship_to(
    session: AsyncSession, user_id: int, market: str, address_id: int | None
) -> ShipTo | None:
    """Where an order in ``market`` goes: the buyer's chosen address ``address_id``
    (``address_snapshot``: 404 for anyone else's, 422 in another country), else their
    default address there (None: none)."""
    if address_id is None:
        return await default_address_snapshot(session, user_id, market)
    return await address_snapshot(session, user_id, address_id, market)
