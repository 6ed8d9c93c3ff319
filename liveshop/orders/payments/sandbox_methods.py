"""The sandbox provider's own store of saved cards (its PaymentMethods), by token.

A real provider keeps the card number and hands the platform a token; the sandbox does the
same, in its own table (``sandbox_payment_methods``) so that saved cards outlive a restart as
they would at a real provider. This is the only place a full card number is ever stored —
and only the sandbox's test numbers are accepted. Without a database (unit tests, the bench)
the store lives in memory, as long as the provider object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, Database, UTCDateTime
from liveshop.core.group_commit import GroupCommit


class SandboxPaymentMethod(Base):
    __tablename__ = "sandbox_payment_methods"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer: Mapped[str] = mapped_column(String(80), index=True)
    number: Mapped[str] = mapped_column(String(19))
    brand: Mapped[str] = mapped_column(String(20))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class Method:
    token: str
    customer: str
    number: str
    brand: str
    exp_month: int
    exp_year: int


def _method(row: SandboxPaymentMethod) -> Method:
    return Method(row.token, row.customer, row.number, row.brand, row.exp_month, row.exp_year)


class MethodBook:
    """Saved cards by token: in ``db`` when given (survives restarts), else in memory."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db
        self._memory: dict[str, Method] = {}
        # A drop's winners paying with their saved cards at once: one read per batch.
        self._finds: GroupCommit[str, Method | None] = GroupCommit(
            self._find_all, name="sandbox-methods-find"
        )

    async def add(self, method: Method) -> None:
        if self.db is None:
            self._memory[method.token] = method
            return
        async with self.db.session() as session:
            session.add(
                SandboxPaymentMethod(
                    token=method.token,
                    customer=method.customer,
                    number=method.number,
                    brand=method.brand,
                    exp_month=method.exp_month,
                    exp_year=method.exp_year,
                )
            )
            await session.commit()

    async def find(self, token: str) -> Method | None:
        if self.db is None:
            return self._memory.get(token)
        return await self._finds.submit(token)

    async def _find_all(self, tokens: list[str]) -> list[Method | None]:
        assert self.db is not None
        async with self.db.session(deferred=True) as session:
            rows = await session.scalars(
                select(SandboxPaymentMethod).where(SandboxPaymentMethod.token.in_(set(tokens)))
            )
            found = {row.token: _method(row) for row in rows.all()}
        return [found.get(t) for t in tokens]

    async def remove(self, token: str) -> None:
        if self.db is None:
            self._memory.pop(token, None)
            return
        async with self.db.session() as session:
            await session.execute(
                delete(SandboxPaymentMethod).where(SandboxPaymentMethod.token == token)
            )
            await session.commit()
