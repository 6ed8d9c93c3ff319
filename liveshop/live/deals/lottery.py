"""Lottery drops: entries during a window, then a draw anyone can re-run.

When the deal starts, a random 256-bit seed is drawn and only its SHA-256 is published (on
the deal card and in the room's ``deal_started``): the seed is committed before any entry
exists, so nobody — the shop included — can pick it to favour an entry. Entries are numbered
1, 2, 3 … in arrival order (``DealEntry.seq``; one per buyer). At ``draw_at`` the seed is
revealed and the entries are put in the order of

    SHA-256( seed_hex + ":" + str(seq) )   (hex digests compared as strings, lowest first)

which anyone can recompute from the published seed and the published entries list
(``GET /api/v1/live/deals/{id}/lottery``: entry numbers and quantities, no names), and check
against the seed's hash shown from the start. Winners are served in that order while units
last (each gets a claim: a hold to pay within); a winner over the per-buyer limit is passed
over. Units given back later (a winner who did not pay) go to the next entries in the same
order, exactly as a queue's line (``live.deals.claims``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.db import table_of
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live.deals.models import DealEntry, DealPolicy, DealStatus, FlashDeal

MIN_WINDOW = timedelta(seconds=10)


def entry_window(
    policy: DealPolicy, window: timedelta | None, duration: timedelta
) -> timedelta | None:
    """How long a lottery takes entries (None for the other policies): by default the first
    half of the deal's time, and at least 10 s before the deal ends (winners need time)."""
    if policy != DealPolicy.LOTTERY:
        if window is not None:
            raise Unprocessable(
                _("an entry window is for lottery drops only"), code="bad-entry-window"
            )
        return None
    window = window if window is not None else duration / 2
    if not MIN_WINDOW <= window <= duration - MIN_WINDOW:
        raise Unprocessable(
            _(
                "a lottery takes entries for at least 10 s and draws at least 10 s before the "
                "deal ends"
            ),
            code="bad-entry-window",
        )
    return window


def commit_seed(deal: FlashDeal, *, draw_at: datetime) -> None:
    seed = secrets.token_hex(32)
    deal.lottery_seed = seed
    deal.lottery_seed_sha256 = hashlib.sha256(seed.encode()).hexdigest()
    deal.draw_at = draw_at


def draw_key(seed: str, seq: int) -> str:
    return hashlib.sha256(f"{seed}:{seq}".encode()).hexdigest()


def draw_order(seed: str, seqs: Sequence[int]) -> list[int]:
    """The entries' numbers in the draw's order (the published algorithm)."""
    return sorted(seqs, key=lambda seq: draw_key(seed, seq))


async def due_draws(session: AsyncSession, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    rows = await session.scalars(
        select(FlashDeal.id).where(
            FlashDeal.policy == DealPolicy.LOTTERY,
            FlashDeal.status == DealStatus.ACTIVE,
            FlashDeal.drawn_at.is_(None),
            FlashDeal.draw_at <= now,
        )
    )
    return list(rows.all())


async def draw(session: AsyncSession, deal_id: int, *, now: datetime | None = None) -> bool:
    """Reveal the seed and rank the entries, once (a guarded UPDATE claims the draw).
    Commits; False if this deal was not due or already drawn. Serving the winners is the
    claim batch's job (``claims.decide`` with no taps), right after."""
    now = now or utcnow()
    seed = await session.scalar(
        update(FlashDeal)
        .where(
            FlashDeal.id == deal_id,
            FlashDeal.policy == DealPolicy.LOTTERY,
            FlashDeal.drawn_at.is_(None),
            FlashDeal.draw_at <= now,
        )
        .values(drawn_at=now)
        .returning(FlashDeal.lottery_seed)
        .execution_options(synchronize_session=False)
    )
    if seed is None:
        await session.rollback()
        return False
    rows = (
        await session.execute(
            select(DealEntry.id, DealEntry.seq).where(DealEntry.deal_id == deal_id)
        )
    ).all()
    by_seq = {seq: entry_id for entry_id, seq in rows}
    order = draw_order(seed, list(by_seq))
    if order:
        table = table_of(DealEntry)
        await session.execute(
            update(table).where(table.c.id == bindparam("entry_id")).values(rank=bindparam("r")),
            [{"entry_id": by_seq[seq], "r": rank} for rank, seq in enumerate(order, start=1)],
        )
    await session.commit()
    return True


async def published_entries(session: AsyncSession, deal_id: int) -> list[dict[str, object]]:
    """The entries as anyone may see them: number, quantity, and — once drawn — their place
    in the draw and what came of it. No buyer is named."""
    rows = await session.scalars(
        select(DealEntry).where(DealEntry.deal_id == deal_id).order_by(DealEntry.seq)
    )
    return [
        {"entry": e.seq, "quantity": e.quantity, "rank": e.rank, "status": e.status}
        for e in rows.all()
    ]
