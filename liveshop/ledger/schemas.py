"""API shapes for the ledger. Money is always an int of minor units next to its currency."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from liveshop.core.money import format_minor
from liveshop.ledger.entries import AccountKey, natural_balance, owed_to_party
from liveshop.ledger.models import AccountType, Side
from liveshop.ledger.statements import Statement, StatementLine

SIGN_NOTE = "debit-positive: debits > 0, credits < 0; a payable owed to its party is negative"


class AccountOut(BaseModel):
    type: AccountType
    party: str
    currency: str
    normal_side: Side = Field(description="debit: assets/expenses; credit: liabilities/income")

    @classmethod
    def of(cls, key: AccountKey) -> AccountOut:
        return cls(
            type=key.type, party=key.party, currency=key.currency, normal_side=key.type.normal_side
        )


class AccountBalanceOut(AccountOut):
    balance_minor: int = Field(description=SIGN_NOTE)
    normal_balance_minor: int = Field(
        description="the balance read on the account's normal side (a payable: what is owed)"
    )
    normal_balance_display: str

    @classmethod
    def with_balance(cls, key: AccountKey, balance_minor: int, locale: str) -> AccountBalanceOut:
        normal = natural_balance(key.type, balance_minor)
        return cls(
            type=key.type,
            party=key.party,
            currency=key.currency,
            normal_side=key.type.normal_side,
            balance_minor=balance_minor,
            normal_balance_minor=normal,
            normal_balance_display=format_minor(normal, key.currency, locale),
        )


class CurrencyTotalOut(BaseModel):
    currency: str
    sum_minor: int


class TrialBalanceOut(BaseModel):
    balanced: bool = Field(description="every currency's postings sum to zero")
    currencies: list[CurrencyTotalOut]


class StatementLineOut(BaseModel):
    transaction_id: int
    reference: str
    kind: str
    memo: str
    created_at: datetime
    amount_minor: int = Field(description=SIGN_NOTE)
    balance_minor: int = Field(description="running balance after this line, debit-positive")

    @classmethod
    def of(cls, line: StatementLine) -> StatementLineOut:
        return cls(
            transaction_id=line.transaction_id,
            reference=line.reference,
            kind=line.kind,
            memo=line.memo,
            created_at=line.created_at,
            amount_minor=line.amount_minor,
            balance_minor=line.balance_minor,
        )


class StatementOut(BaseModel):
    account: AccountOut
    since: datetime | None = Field(description="inclusive")
    until: datetime | None = Field(description="exclusive")
    opening_balance_minor: int
    closing_balance_minor: int
    total_debits_minor: int = Field(ge=0)
    total_credits_minor: int = Field(ge=0)
    owed_to_party_minor: int | None = Field(
        description="payables only: what the platform owes the party at the close (-balance)"
    )
    lines: list[StatementLineOut]

    @classmethod
    def of(cls, st: Statement) -> StatementOut:
        payable = st.account.type.is_payable
        return cls(
            account=AccountOut.of(st.account),
            since=st.since,
            until=st.until,
            opening_balance_minor=st.opening_balance_minor,
            closing_balance_minor=st.closing_balance_minor,
            total_debits_minor=st.total_debits_minor,
            total_credits_minor=st.total_credits_minor,
            owed_to_party_minor=owed_to_party(st.closing_balance_minor) if payable else None,
            lines=[StatementLineOut.of(line) for line in st.lines],
        )


class OwedToYouOut(BaseModel):
    party: str
    type: AccountType
    currency: str
    owed_minor: int = Field(description="what the platform owes you; negative if you owe it")
    display: str
