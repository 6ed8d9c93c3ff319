"""Writing and reading the audit log.

``record`` adds the entry to the caller's session and flushes nothing by itself: it commits
or rolls back with the change it describes (a refused change leaves no entry, a recorded
one cannot be lost while its change stays). ``actor_id`` None means the system (the CLI, a
background job)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.audit.models import AuditEntry


class Action(StrEnum):
    MARKET_LAUNCH_STATE = "market.launch_state"  # a market opened, paused, closed
    MARKET_RATES = "market.rates"  # tax, platform commission, return window, shipping fee
    MARKET_COMMISSION = "market.category_commission"  # a category's platform commission
    USER_CREATED = "user.created"  # by an admin, with roles
    USER_ROLES = "user.roles"
    USER_ACTIVE = "user.active"  # deactivated (tokens revoked) or reactivated
    USER_PASSWORD = "user.password"  # changed by its owner (other sessions signed out)
    CREATOR_CONTRACT = "creator.contract"  # a new version of a creator's terms (commissions)
    PAYOUT_STATEMENT = "payout.statement"  # a payout statement drawn up
    PAYOUT_PAID = "payout.paid"  # a statement paid out
    ORDER_REFUND = "order.refund"  # units of an order refunded
    STREAM_KEY_ROTATED = "video.stream_key_rotated"  # by its creator (no key is recorded)
    STREAM_KEY_REVOKED = "video.stream_key_revoked"
    CAMPAIGN_PAUSED = "promotion.campaign_paused"  # a subsidy campaign paused or resumed
    COUPON_DEACTIVATED = "promotion.coupon_deactivated"  # by its shop's staff


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: Action,
    target_type: str,
    target_id: str | int,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    """Add one entry to ``session``'s transaction (the caller commits)."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=str(action),
        target_type=target_type,
        target_id=str(target_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        note=note[:300],
    )
    session.add(entry)
    return entry


def _utc(moment: datetime | None) -> datetime | None:
    """A date without a zone is read as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: Sequence[AuditEntry]
    total: int


async def search(
    session: AsyncSession,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Newest first; ``action`` matches exactly or, ending in ``.``, as a prefix
    (``market.``); the dates are a half-open window ``[since, until)``."""
    since, until = _utc(since), _utc(until)
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return AuditPage(rows.all(), total)
