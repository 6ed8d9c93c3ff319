"""One per person: an entry, a vote or an upvote whose unique key refuses a second one.

The caller has already moved its counter by a guarded UPDATE in the same transaction; the row
is added and the transaction committed, and a second tap racing the first (the unique key)
rolls both back and gets the caller's 409.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Problem


async def commit_once(session: AsyncSession, row: object, taken: Problem) -> None:
    """Add ``row`` and commit; raise ``taken`` (rolled back) when its unique key is taken."""
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise taken from exc
