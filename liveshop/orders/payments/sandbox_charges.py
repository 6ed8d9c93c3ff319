"""The sandbox provider's own memory of the charges it was asked for, by idempotency key.

The sandbox stands for an external provider, whose record of a charge outlives liveshop: a
charge is written — in its own short transaction — BEFORE the sandbox answers, so a liveshop
killed while waiting for the answer can later ask what happened (``find``). Without a
database (unit tests, the bench) the record lives in memory, as long as the provider object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import BigInteger, String, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, Database, UTCDateTime, table_of
from liveshop.core.group_commit import GroupCommit

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
    """Charges by idempotency key: in ``db`` when given (survives restarts), else in memory.

    In the database, concurrent calls are group-committed (``core.group_commit``): a drop's
    hundreds of simultaneous charges are looked up, recorded and captured in one statement
    per batch, as a provider's own storage would batch them — not a transaction each."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db
        self._memory: dict[str, Charge] = {}
        self._finds: GroupCommit[str, Charge | None] = GroupCommit(
            self._find_all, name="sandbox-find"
        )
        self._adds: GroupCommit[Charge, Charge] = GroupCommit(self._add_all, name="sandbox-add")
        self._moves: GroupCommit[tuple[str, str, str], None] = GroupCommit(
            self._move_all, name="sandbox-move"
        )

    async def find(self, idempotency_key: str) -> Charge | None:
        if self.db is None:
            return self._memory.get(idempotency_key)
        return await self._finds.submit(idempotency_key)

    async def add(self, charge: Charge) -> Charge:
        """Record a new charge; when the key is already taken, the charge first recorded."""
        if self.db is None:
            return self._memory.setdefault(charge.idempotency_key, charge)
        return await self._adds.submit(charge)

    async def move(self, provider_ref: str, *, from_status: str, to: str) -> None:
        """``from_status`` → ``to`` for the charge ``provider_ref`` (no change otherwise)."""
        if self.db is None:
            for key, charge in self._memory.items():
                if charge.provider_ref == provider_ref and charge.status == from_status:
                    self._memory[key] = replace(charge, status=to)
            return
        await self._moves.submit((provider_ref, from_status, to))

    def _database(self) -> Database:
        assert self.db is not None
        return self.db

    async def _find_all(self, keys: list[str]) -> list[Charge | None]:
        async with self._database().session(deferred=True) as session:
            rows = await session.scalars(
                select(SandboxCharge).where(SandboxCharge.idempotency_key.in_(set(keys)))
            )
            found = {row.idempotency_key: _charge(row) for row in rows.all()}
        return [found.get(k) for k in keys]

    async def _add_all(self, charges: list[Charge]) -> list[Charge]:
        async with self._database().session() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            now = utcnow()
            # Executemany (compiled once, cached), not a multi-VALUES statement per batch size.
            written = set(
                (
                    await session.scalars(
                        insert(table_of(SandboxCharge))
                        .on_conflict_do_nothing(index_elements=["idempotency_key"])
                        .returning(SandboxCharge.provider_ref),
                        [
                            {
                                "idempotency_key": c.idempotency_key,
                                "provider_ref": c.provider_ref,
                                "status": c.status,
                                "failure_code": c.failure_code,
                                "amount_minor": c.amount_minor,
                                "currency": c.currency,
                                "settles_to": c.settles_to,
                                "settles_at": c.settles_at,
                                "created_at": now,
                                "updated_at": now,
                            }
                            for c in charges
                        ],
                    )
                ).all()
            )
            await session.commit()
        out: list[Charge] = []
        for c in charges:
            if c.provider_ref in written:
                out.append(c)
            else:  # the key was taken first (by another call, or earlier in this batch)
                first = await self.find(c.idempotency_key)
                assert first is not None
                out.append(first)
        return out

    async def _move_all(self, moves: list[tuple[str, str, str]]) -> list[None]:
        by_change: dict[tuple[str, str], list[str]] = {}
        for ref, from_status, to in moves:
            by_change.setdefault((from_status, to), []).append(ref)
        async with self._database().session() as session:
            for (from_status, to), refs in sorted(by_change.items()):
                await session.execute(
                    update(SandboxCharge)
                    .where(
                        SandboxCharge.provider_ref.in_(refs), SandboxCharge.status == from_status
                    )
                    .values(status=to, updated_at=utcnow())
                )
            await session.commit()
        return [None] * len(moves)
