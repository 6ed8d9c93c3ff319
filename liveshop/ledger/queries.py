"""SQL building blocks shared by the posting and the reading side of the ledger."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, ColumnElement, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.ledger.entries import AccountKey
from liveshop.ledger.models import LedgerAccount, LedgerPosting


def key_filter(keys: Iterable[AccountKey]) -> ColumnElement[bool]:
    """WHERE clause matching any of ``keys`` on ``ledger_accounts``."""
    return or_(
        *(
            and_(
                LedgerAccount.type == str(k.type),
                LedgerAccount.party == k.party,
                LedgerAccount.currency == k.currency,
            )
            for k in keys
        )
    )


def sum_postings() -> ColumnElement[int]:
    """SUM(amount_minor) as an exact BIGINT, 0 when there are no rows.

    PostgreSQL's SUM(bigint) is NUMERIC (a Decimal in Python); the cast keeps it an int and
    fails loudly on overflow instead of turning into something else.
    """
    return cast(func.coalesce(func.sum(LedgerPosting.amount_minor), 0), BigInteger)


def sum_as_int(value: object) -> int:
    """SQL sums come back as int: anything else is a bug, never money."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"ledger sum came back as {type(value).__name__}")
    return value


async def account_id(session: AsyncSession, key: AccountKey) -> int | None:
    """The account's id, or None if nothing was ever posted to it."""
    found = await session.scalar(select(LedgerAccount.id).where(key_filter([key])))
    return None if found is None else int(found)
