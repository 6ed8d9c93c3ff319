"""The sandbox provider's own memory of the charges it was asked for, by idempotency key.

The sandbox stands for an external provider, whose record of a charge outlives liveshop: a
charge is written — in its own short transaction — BEFORE the sandbox answers, so a liveshop
killed while waiting for the answer can later ask what happened (``find``). Without a
database (unit tests, the bench) the record lives in memory, as long as the provider object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import BigInteger, String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, Database, UTCDateTime

AUTHORIZED = "authorized"
CAPTURED = "captured"
FAILED = "failed"
PENDING = "pending"


class SandboxCharge(Base):
    __tablename__ = "sandbox_charges"

    idempotency_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    provider_ref: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # authorized | captured | failed | pending
    failure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # A pending charge settles to this status ("captured" or "failed") at ``settles_at``.
    settles_to: Mapped[str | None] = mapped_column(String(12), nullable=True)
    settles_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@dataclass(frozen=True, slots=True)
class Charge:
    idempotency_key: str
    provider_ref: str
    status: str
    amount_minor: int
    currency: str
    failure_code: str | None = None
    settles_to: str | None = None
    settles_at: datetime | None = None

    def settled(self, now: datetime) -> Charge:
        """As the provider sees it at ``now``: a pending charge past its time has settled."""
        if (
            self.status == PENDING
            and self.settles_to
            and self.settles_at
            and self.settles_at <= now
        ):
            failure = "processing_error" if self.settles_to == FAILED else None
            return replace(self, status=self.settles_to, failure_code=failure)
        return self


def _charge(row: SandboxCharge) -> Charge:
    return Charge(
        idempotency_key=row.idempotency_key,
        provider_ref=row.provider_ref,
        status=row.status,
        amount_minor=row.amount_minor,
        currency=row.currency,
        failure_code=row.failure_code,
        settles_to=row.settles_to,
        settles_at=row.settles_at,
    )


class ChargeBook:
    """Charges by idempotency key: in ``db`` when given (survives restarts), else in memory."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db
        self._memory: dict[str, Charge] = {}

    async def find(self, idempotency_key: str) -> Charge | None:
        if self.db is None:
            return self._memory.get(idempotency_key)
        async with self.db.session(deferred=True) as session:
            row = await session.get(SandboxCharge, idempotency_key)
            return None if row is None else _charge(row)

    async def add(self, charge: Charge) -> Charge:
        """Record a new charge; when the key is already taken, the charge first recorded."""
        if self.db is None:
            return self._memory.setdefault(charge.idempotency_key, charge)
        async with self.db.session() as session:
            session.add(
                SandboxCharge(
                    idempotency_key=charge.idempotency_key,
                    provider_ref=charge.provider_ref,
                    status=charge.status,
                    failure_code=charge.failure_code,
                    amount_minor=charge.amount_minor,
                    currency=charge.currency,
                    settles_to=charge.settles_to,
                    settles_at=charge.settles_at,
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
            else:
                return charge
        found = await self.find(charge.idempotency_key)
        assert found is not None
        return found

    async def move(self, provider_ref: str, *, from_status: str, to: str) -> None:
        """``from_status`` → ``to`` for the charge ``provider_ref`` (no change otherwise)."""
        if self.db is None:
            for key, charge in self._memory.items():
                if charge.provider_ref == provider_ref and charge.status == from_status:
                    self._memory[key] = replace(charge, status=to)
            return
        async with self.db.session() as session:
            await session.execute(
                update(SandboxCharge)
                .where(
                    SandboxCharge.provider_ref == provider_ref, SandboxCharge.status == from_status
                )
                .values(status=to, updated_at=utcnow())
            )
            await session.commit()
