"""A buyer's cards on file, for one-tap pay (Stripe's saved PaymentMethods).

The payment provider keeps the card; liveshop keeps its token and what may be shown: brand,
last four digits, expiry. One of a buyer's cards is the default (the first one saved, or the
one chosen): the database holds at most one default per buyer (a partial unique index), and
every change to a buyer's cards runs under a lock of the buyer's row, so two at once (two
first cards, two "make default" taps) queue instead of racing. The provider is called
outside any database transaction: a card is saved with the provider first, then recorded
here (the token is given back to the provider if recording fails); a removed card is
forgotten by the provider after its row is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.accounts.models import User
from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime
from liveshop.core.errors import Conflict, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.orders.payments.provider import (
    CardDetails,
    CardToken,
    PaymentProvider,
    SavedMethod,
    brand_name,
)

log = structlog.get_logger("liveshop.orders.saved_cards")

MAX_CARDS = 10  # per buyer


class SavedCard(Base):
    __tablename__ = "saved_cards"
    __table_args__ = (
        UniqueConstraint("provider", "provider_token"),
        Index(
            "uq_saved_cards_one_default",
            "buyer_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
        CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_valid"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_token: Mapped[str] = mapped_column(String(80))
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def brand_name(self) -> str:
        return brand_name(self.brand)

    @property
    def label(self) -> str:
        """``Visa •••• 4242``: how the card is shown everywhere."""
        return f"{self.brand_name} •••• {self.last4}"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    def expired(self, now: datetime | None = None) -> bool:
        """Good until the end of its expiry month."""
        at = now or utcnow()
        return (self.exp_year, self.exp_month) < (at.year, at.month)


def customer_of(buyer_id: int) -> str:
    """The buyer as the payment provider knows them (Stripe's Customer)."""
    return f"liveshop-buyer-{buyer_id}"


def token_of(card: SavedCard) -> CardToken:
    """What the provider is asked to charge for this card."""
    return CardToken(card.provider_token, card.last4, customer_of(card.buyer_id))


# -- reading --------------------------------------------------------------------------------
async def list_cards(session: AsyncSession, buyer_id: int) -> list[SavedCard]:
    """The default first, then the newest."""
    rows = await session.scalars(
        select(SavedCard)
        .where(SavedCard.buyer_id == buyer_id)
        .order_by(SavedCard.is_default.desc(), SavedCard.id.desc())
    )
    return list(rows)


async def get_card(session: AsyncSession, buyer_id: int, card_id: int) -> SavedCard:
    """The buyer's own card; another buyer's is as missing as one that never existed."""
    card = await session.scalar(
        select(SavedCard).where(SavedCard.id == card_id, SavedCard.buyer_id == buyer_id)
    )
    if card is None:
        raise NotFound(
            _("saved card %(card_id)s does not exist", card_id=card_id), code="saved-card-not-found"
        )
    return card


async def default_card(session: AsyncSession, buyer_id: int) -> SavedCard | None:
    found: SavedCard | None = await session.scalar(
        select(SavedCard).where(SavedCard.buyer_id == buyer_id, SavedCard.is_default)
    )
    return found


async def default_cards(session: AsyncSession, buyer_ids: Iterable[int]) -> dict[int, SavedCard]:
    """Each of these buyers' default card (one read for many: a batch of one-tap payments)."""
    ids = set(buyer_ids)
    if not ids:
        return {}
    rows = await session.scalars(
        select(SavedCard).where(SavedCard.buyer_id.in_(ids), SavedCard.is_default)
    )
    return {card.buyer_id: card for card in rows}


async def _count(session: AsyncSession, buyer_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(SavedCard).where(SavedCard.buyer_id == buyer_id)
        )
        or 0
    )


def _too_many() -> Conflict:
    return Conflict(
        _("you can keep at most %(max_cards)s cards: remove one first", max_cards=MAX_CARDS),
        code="too-many-cards",
        limit=MAX_CARDS,
    )


async def _lock_buyer(session: AsyncSession, buyer_id: int) -> None:
    """Changes to one buyer's cards queue here (the buyer's row, locked until commit)."""
    await session.execute(select(User.id).where(User.id == buyer_id).with_for_update())


async def _clear_default(session: AsyncSession, buyer_id: int) -> None:
    await session.execute(
        update(SavedCard)
        .where(SavedCard.buyer_id == buyer_id, SavedCard.is_default)
        .values(is_default=False)
    )


# -- changing -------------------------------------------------------------------------------
async def save_card(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    buyer_id: int,
    card: CardDetails,
    make_default: bool = False,
) -> SavedCard:
    """Save the card with the provider and keep its token: the buyer's first card becomes
    the default, a later one only when ``make_default``. A card the provider finds not valid
    (number, expiry, not a test card in test mode): 422, nothing kept."""
    if await _count(session, buyer_id) >= MAX_CARDS:
        raise _too_many()
    await session.commit()  # the provider is called outside any transaction
    method = await provider.save_card(card, customer=customer_of(buyer_id))
    try:
        return await _keep(session, provider.name, buyer_id, method, make_default)
    except BaseException:
        await session.rollback()
        await provider.forget_card(method.token)
        raise


async def _keep(
    session: AsyncSession, provider: str, buyer_id: int, method: SavedMethod, make_default: bool
) -> SavedCard:
    await _lock_buyer(session, buyer_id)
    if await _count(session, buyer_id) >= MAX_CARDS:
        raise _too_many()
    has_default = await default_card(session, buyer_id) is not None
    if make_default and has_default:
        await _clear_default(session, buyer_id)
    card = SavedCard(
        buyer_id=buyer_id,
        provider=provider,
        provider_token=method.token,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        is_default=make_default or not has_default,
    )
    session.add(card)
    await session.commit()
    return card


async def set_default(session: AsyncSession, *, buyer_id: int, card_id: int) -> SavedCard:
    """The buyer's card ``card_id`` becomes their default (404 for anyone else's)."""
    await _lock_buyer(session, buyer_id)
    card = await get_card(session, buyer_id, card_id)
    if not card.is_default:
        await _clear_default(session, buyer_id)  # first: at most one default at any moment
        card.is_default = True
    await session.commit()
    return card


async def delete_card(
    session: AsyncSession, provider: PaymentProvider, *, buyer_id: int, card_id: int
) -> None:
    """Remove the buyer's card (404 for anyone else's); when it was the default, the newest
    card left becomes the default. The provider then forgets the token."""
    await _lock_buyer(session, buyer_id)
    card = await get_card(session, buyer_id, card_id)
    token, owner, was_default = card.provider_token, card.provider, card.is_default
    await session.execute(delete(SavedCard).where(SavedCard.id == card.id))
    if was_default:
        newest = (
            select(SavedCard.id)
            .where(SavedCard.buyer_id == buyer_id)
            .order_by(SavedCard.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        await session.execute(
            update(SavedCard).where(SavedCard.id == newest).values(is_default=True)
        )
    await session.commit()
    if owner == provider.name:
        try:
            await provider.forget_card(token)
        except Exception:  # the row is gone: liveshop can no longer charge the token
            log.exception("the provider did not forget a removed card", card_id=card_id)
