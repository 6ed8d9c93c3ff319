"""Revision 0013 numbers existing payout statements per party and currency in period order
(seq) and adds ``earlier_payouts_minor`` (0 for them); its downgrade drops both — on SQLite and
PostgreSQL, each on a database of its own migrated to 0012 first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.core.db import UTCDateTime
from liveshop.core.migrate import downgrade, upgrade

T0 = datetime(2025, 1, 1, tzinfo=UTC)

STATEMENTS = sa.table(
    "payout_statements",
    *(
        sa.column(c)
        for c in (
            "id",
            "party_kind",
            "party_id",
            "currency",
            "opening_owed_minor",
            "earned_minor",
            "deducted_minor",
            "closing_owed_minor",
            "pending_minor",
            "payout_minor",
            "status",
        )
    ),
    *(sa.column(c, UTCDateTime()) for c in ("period_start", "period_end", "created_at")),
)


def _row(id_: int, kind: str, party: int, currency: str, month: int) -> dict[str, Any]:
    start = T0 + timedelta(days=30 * month)
    return {
        "id": id_,
        "party_kind": kind,
        "party_id": party,
        "currency": currency,
        "period_start": start,
        "period_end": start + timedelta(days=30),
        "opening_owed_minor": 0,
        "earned_minor": 0,
        "deducted_minor": 0,
        "closing_owed_minor": 0,
        "pending_minor": 0,
        "payout_minor": 0,
        "status": "nothing_due",
        "created_at": start + timedelta(days=31),
    }


async def _run(url: str, *statements: Any) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    rows: list[tuple[Any, ...]] = []
    try:
        async with engine.begin() as conn:
            for statement in statements:
                result = await conn.execute(statement)
                rows = [tuple(r) for r in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()
    return rows


def test_existing_statements_are_numbered_in_period_order(fresh_url: str) -> None:
    url = fresh_url
    upgrade(url, "0012")
    asyncio.run(
        _run(
            url,
            sa.insert(STATEMENTS).values(
                [
                    _row(1, "creator", 7, "GBP", 2),  # made first, for a later period
                    _row(2, "creator", 7, "GBP", 0),
                    _row(3, "creator", 7, "VND", 0),  # another currency: its own chain
                    _row(4, "agency", 7, "GBP", 1),  # another kind of party
                    _row(5, "creator", 7, "GBP", 1),
                    _row(6, "creator", 8, "GBP", 5),
                ]
            ),
        )
    )
    upgrade(url, "0013")
    found = asyncio.run(
        _run(
            url,
            sa.text("SELECT id, seq, earlier_payouts_minor FROM payout_statements ORDER BY id"),
        )
    )
    assert found == [(1, 3, 0), (2, 1, 0), (3, 1, 0), (4, 1, 0), (5, 2, 0), (6, 1, 0)]
    # The chain is unique: a second statement no. 3 of creator 7 in GBP is refused.
    with pytest.raises(IntegrityError):
        asyncio.run(
            _run(
                url,
                sa.text(
                    "INSERT INTO payout_statements (party_kind, party_id, currency, seq,"
                    " period_start, period_end, opening_owed_minor, earned_minor,"
                    " deducted_minor, closing_owed_minor, pending_minor, payout_minor, status,"
                    " created_at) VALUES ('creator', 7, 'GBP', 3, :s, :e, 0, 0, 0, 0, 0, 0,"
                    " 'nothing_due', :s)"
                ).bindparams(
                    sa.bindparam("s", T0 + timedelta(days=400), UTCDateTime()),
                    sa.bindparam("e", T0 + timedelta(days=430), UTCDateTime()),
                ),
            )
        )
    downgrade(url, "0012")
    left = asyncio.run(_run(url, sa.select(STATEMENTS.c.id).order_by(STATEMENTS.c.id)))
    assert left == [(1,), (2,), (3,), (4,), (5,), (6,)]
    with pytest.raises(Exception, match="seq"):
        asyncio.run(_run(url, sa.text("SELECT seq FROM payout_statements")))
    upgrade(url, "0013")
