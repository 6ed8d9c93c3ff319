"""Double-entry ledger tables: accounts, transactions, postings.

The ledger is append-only. A transaction is a set of postings whose amounts sum to zero per
currency; an account's balance is the SUM of its postings — it is never stored, so it can never
drift from the entries that explain it. Sign convention: debit > 0, credit < 0 (see
``AccountType.normal_side``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class Side(StrEnum):
    DEBIT = "debit"  # the balance grows with positive (debit) postings: assets, expenses
    CREDIT = "credit"  # the balance grows with negative (credit) postings: liabilities, income


class AccountType(StrEnum):
    PAYMENT_CLEARING = "payment_clearing"  # asset: buyer money captured by a provider, held by us
    SELLER_PAYABLE = "seller_payable"  # liability: owed to a shop ("shop:<id>")
    CREATOR_PAYABLE = "creator_payable"  # liability: owed to a creator ("creator:<user_id>")
    AGENCY_PAYABLE = "agency_payable"  # liability: owed to an agency ("agency:<id>")
    PLATFORM_REVENUE = "platform_revenue"  # income: platform commission ("market:<code>")
    PLATFORM_SUBSIDY_EXPENSE = "platform_subsidy_expense"  # expense: platform-funded incentives
    TAX_PAYABLE = "tax_payable"  # liability to the tax authority ("market:<code>")
    REFUNDS_PAYABLE = "refunds_payable"  # liability: refunds owed to buyers until the provider pays
    PAYOUT_CLEARING = "payout_clearing"  # asset/clearing: money sent out to shops/creators/agencies

    @property
    def normal_side(self) -> Side:
        """Which side makes this account's balance grow (how to read its sign)."""
        return Side.DEBIT if self in _DEBIT_NORMAL else Side.CREDIT

    @property
    def is_payable(self) -> bool:
        """A liability to one party: ``-balance`` is what the platform owes that party."""
        return self in _PAYABLES


_DEBIT_NORMAL = frozenset(
    {
        AccountType.PAYMENT_CLEARING,
        AccountType.PLATFORM_SUBSIDY_EXPENSE,
        AccountType.PAYOUT_CLEARING,
    }
)
_PAYABLES = frozenset(
    {
        AccountType.SELLER_PAYABLE,
        AccountType.CREATOR_PAYABLE,
        AccountType.AGENCY_PAYABLE,
        AccountType.TAX_PAYABLE,
        AccountType.REFUNDS_PAYABLE,
    }
)


class LedgerAccount(Base):
    """One (type, party, currency) bucket; created on first use, never changed."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("type", "party", "currency"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    party: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217 alphabetic code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(Base):
    """One money movement. ``reference`` is unique: posting it twice is a no-op replay."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("ix_ledger_transactions_created_at", "created_at"),
        # LIKE 'prefix%' uses a B-tree on PostgreSQL only with text_pattern_ops. (A plain,
        # redundant index on SQLite: a dialect-only index would confuse autogenerate.)
        Index(
            "ix_ledger_transactions_reference_pattern",
            "reference",
            postgresql_ops={"reference": "text_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(String(500), default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postings: Mapped[list[LedgerPosting]] = relationship(
        back_populates="transaction", lazy="selectin", order_by="LedgerPosting.id"
    )


class LedgerPosting(Base):
    """One leg of a transaction: debit > 0, credit < 0, never 0."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        Index("ix_ledger_postings_account", "account_id", "transaction_id"),
        Index("ix_ledger_postings_transaction", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT")
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")
