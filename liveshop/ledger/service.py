"""Posting to the ledger and reading balances back.

Invariants:

- Every transaction is validated *before* the database is touched: at least two non-zero int
  postings summing to zero per currency (``validate_postings``).
- Idempotent by ``reference``: the same reference with the same kind and postings returns the
  transaction already written; anything else under that reference is a 409.
- ``post`` flushes and never commits: the caller's operation (an order's state change, a payout)
  commits once, so the business change and its money movement are atomic.
- Balances are SUMs of postings, never stored; the tables are append-only (the migration adds
  triggers that refuse UPDATE/DELETE on PostgreSQL and UPDATE on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Insert, and_, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from liveshop.core.clock import utcnow
from liveshop.core.db import table_of
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.ledger.allocation import allocate, retarget, reversal
from liveshop.ledger.entries import (
    MAX_KIND_LENGTH,
    MAX_MEMO_LENGTH,
    MAX_REFERENCE_LENGTH,
    AccountKey,
    InvalidPosting,
    Posting,
    UnbalancedTransaction,
    agency_party,
    creator_party,
    market_party,
    natural_balance,
    owed_to_party,
    posting_signature,
    provider_party,
    shop_party,
    validate_meta,
    validate_postings,
)
from liveshop.ledger.models import AccountType, LedgerAccount, LedgerPosting, LedgerTransaction
from liveshop.ledger.queries import key_filter, sum_as_int, sum_postings
from liveshop.ledger.statements import Statement, StatementLine, statement

__all__ = [
    "AccountKey",
    "AccountType",
    "Entry",
    "InvalidPosting",
    "Posting",
    "Statement",
    "StatementLine",
    "UnbalancedTransaction",
    "account_key_of",
    "agency_party",
    "allocate",
    "append",
    "append_many",
    "balance",
    "balances",
    "creator_party",
    "is_balanced",
    "market_party",
    "natural_balance",
    "owed_to_party",
    "post",
    "postings_of",
    "provider_party",
    "retarget",
    "reversal",
    "shop_party",
    "statement",
    "transactions_by_reference_prefix",
    "trial_balance",
]


def _dialect_insert(session: AsyncSession, model: Any) -> Any:
    """INSERT with ON CONFLICT support for whichever database the session is bound to."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _text(value: str, what: str, max_length: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidPosting(f"{what} must be a string")
    if (not value.strip() and not allow_empty) or len(value) > max_length:
        raise InvalidPosting(f"{what} must be 1..{max_length} characters")
    return value


def account_key_of(account: LedgerAccount) -> AccountKey:
    return AccountKey(AccountType(account.type), account.party, account.currency)


def postings_of(tx: LedgerTransaction) -> list[Posting]:
    """A stored transaction's postings as values (e.g. to feed :func:`reversal`)."""
    return [Posting(account_key_of(p.account), p.amount_minor) for p in tx.postings]


async def _find_accounts(session: AsyncSession, keys: set[AccountKey]) -> dict[AccountKey, int]:
    rows = await session.execute(
        select(
            LedgerAccount.id, LedgerAccount.type, LedgerAccount.party, LedgerAccount.currency
        ).where(key_filter(keys))
    )
    return {AccountKey(AccountType(t), party, cur): id_ for id_, t, party, cur in rows.all()}


async def _account_ids(session: AsyncSession, keys: set[AccountKey]) -> dict[AccountKey, int]:
    """Get-or-create, race-safe: the unique (type, party, currency) decides who inserted it.

    Missing accounts are inserted in sorted order, so two transactions creating the same
    accounts wait on each other in the same order instead of deadlocking.
    """
    found = await _find_accounts(session, keys)
    missing = sorted(keys - found.keys())
    if missing:
        now = utcnow()
        stmt: Insert = _dialect_insert(session, LedgerAccount).on_conflict_do_nothing(
            index_elements=["type", "party", "currency"]
        )
        await session.execute(
            stmt,
            [
                {"type": str(k.type), "party": k.party, "currency": k.currency, "created_at": now}
                for k in missing
            ],
        )
        found |= await _find_accounts(session, set(missing))
    return found


async def post(
    session: AsyncSession,
    *,
    kind: str,
    reference: str,
    postings: Sequence[Posting],
    memo: str = "",
    meta: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction (or return the identical one already under ``reference``).

    Raises :class:`InvalidPosting` / :class:`UnbalancedTransaction` / ``TypeError`` for
    postings that can never be valid (nothing is written), and ``Conflict``
    (``ledger-reference-reused``, 409) when ``reference`` already names a different
    transaction. ``memo`` and ``meta`` are not part of the identity. Flushes; never commits.
    """
    tx_id = await append(
        session, kind=kind, reference=reference, postings=postings, memo=memo, meta=meta
    )
    tx = await session.get(LedgerTransaction, tx_id)
    assert tx is not None
    return tx


@dataclass(frozen=True, slots=True)
class Entry:
    """One transaction to ``append_many``."""

    kind: str
    reference: str
    postings: Sequence[Posting]
    memo: str = ""
    meta: dict[str, Any] | None = None


async def append(
    session: AsyncSession,
    *,
    kind: str,
    reference: str,
    postings: Sequence[Posting],
    memo: str = "",
    meta: dict[str, Any] | None = None,
) -> int:
    """``post`` without reading the transaction back: its id (a replay's id too).

    The same checks, idempotency and conflicts as ``post``: one INSERT of the transaction, one
    SELECT of its accounts (plus their creation the first time), one multi-row INSERT of the
    postings. For hot paths (a paid order) that do not need the written rows again.
    """
    (tx_id,) = await append_many(
        session, [Entry(kind=kind, reference=reference, postings=postings, memo=memo, meta=meta)]
    )
    return tx_id


async def append_many(session: AsyncSession, entries: Sequence[Entry]) -> list[int]:
    """``append`` for many transactions at once (a batch of paid orders): the same checks
    for each, all before the database is touched; one multi-row INSERT of the transactions,
    one SELECT of all their accounts, one multi-row INSERT of all their postings, whatever
    their number. Their ids, in order. A reference already written is replayed (or 409) as
    ``append`` does, one by one."""
    checked = []
    for e in entries:
        items = validate_postings(e.postings)
        _text(e.kind, "kind", MAX_KIND_LENGTH)
        _text(e.reference, "reference", MAX_REFERENCE_LENGTH)
        _text(e.memo, "memo", MAX_MEMO_LENGTH, allow_empty=True)
        checked.append((e, items, validate_meta(e.meta)))
    if len({e.reference for e in entries}) != len(entries):
        raise InvalidPosting("a batch names each reference once")
    if not checked:
        return []
    # ON CONFLICT DO NOTHING: a concurrent writer of the same reference makes this a no-op
    # (PostgreSQL waits for it to commit first), and we fall through to the replay check.
    now = utcnow()
    # Executemany, not one multi-VALUES statement: compiled once and cached (SQLAlchemy's
    # "insertmanyvalues" still sends the rows in a few statements); a multi-VALUES statement
    # is compiled afresh for every batch size, ~0.3 ms per row.
    insert_tx = (
        _dialect_insert(session, table_of(LedgerTransaction))
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(LedgerTransaction.id, LedgerTransaction.reference)
    )
    written = {
        ref: int(id_)
        for id_, ref in (
            await session.execute(
                insert_tx,
                [
                    {
                        "reference": e.reference,
                        "kind": e.kind,
                        "memo": e.memo,
                        "meta": meta,
                        "created_at": now,
                    }
                    for e, _items, meta in checked
                ],
            )
        ).all()
    }
    ids: list[int] = []
    fresh: list[tuple[int, list[Posting]]] = []
    for e, items, _meta in checked:
        tx_id = written.get(e.reference)
        if tx_id is None:
            replayed = await _replayed(session, kind=e.kind, reference=e.reference, postings=items)
            ids.append(replayed.id)
        else:
            ids.append(tx_id)
            fresh.append((tx_id, items))
    if fresh:
        accounts = await _account_ids(session, {p.account for _id, items in fresh for p in items})
        await session.execute(
            insert(LedgerPosting),
            [
                {
                    "transaction_id": tx_id,
                    "account_id": accounts[p.account],
                    "amount_minor": p.amount_minor,
                }
                for tx_id, items in fresh
                for p in items
            ],
        )
    await session.flush()
    return ids


async def _replayed(
    session: AsyncSession, *, kind: str, reference: str, postings: list[Posting]
) -> LedgerTransaction:
    existing = await session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reference == reference)
    )
    if existing is None:  # only if the conflicting row vanished: the ledger is append-only
        raise RuntimeError(f"ledger reference {reference!r} conflicted but cannot be read")
    same = existing.kind == kind and posting_signature(postings_of(existing)) == (
        posting_signature(postings)
    )
    if not same:
        raise Conflict(
            _(
                "ledger reference %(reference)s was already used for a different transaction",
                reference=repr(reference),
            ),
            code="ledger-reference-reused",
            reference=reference,
        )
    return existing


async def balance(session: AsyncSession, account: AccountKey) -> int:
    """Debit-positive sum of the account's postings; 0 for an account never posted to."""
    total = await session.scalar(
        select(sum_postings())
        .select_from(LedgerPosting)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(key_filter([account]))
    )
    return sum_as_int(total)


async def balances(
    session: AsyncSession,
    *,
    type: AccountType | None = None,
    party: str | None = None,
    currency: str | None = None,
    parties: Sequence[str] | None = None,
) -> list[tuple[AccountKey, int]]:
    """Every account matching the filters with its debit-positive balance, sorted by key."""
    stmt = (
        select(LedgerAccount.type, LedgerAccount.party, LedgerAccount.currency, sum_postings())
        .select_from(LedgerAccount)
        .outerjoin(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.id, LedgerAccount.type, LedgerAccount.party, LedgerAccount.currency)
        .order_by(LedgerAccount.type, LedgerAccount.party, LedgerAccount.currency)
    )
    filters: list[tuple[InstrumentedAttribute[str], str | None]] = [
        (LedgerAccount.type, None if type is None else str(AccountType(type))),
        (LedgerAccount.party, party),
        (LedgerAccount.currency, currency),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if parties is not None:
        if not parties:
            return []
        stmt = stmt.where(LedgerAccount.party.in_(list(parties)))
    rows = await session.execute(stmt)
    return [(AccountKey(AccountType(t), p, c), sum_as_int(total)) for t, p, c, total in rows.all()]


async def trial_balance(session: AsyncSession) -> dict[str, int]:
    """Currency -> sum of every posting in it. A healthy ledger has only zeros."""
    rows = await session.execute(
        select(LedgerAccount.currency, sum_postings())
        .select_from(LedgerPosting)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .group_by(LedgerAccount.currency)
        .order_by(LedgerAccount.currency)
    )
    return {cur: sum_as_int(total) for cur, total in rows.all()}


async def is_balanced(session: AsyncSession) -> bool:
    return all(total == 0 for total in (await trial_balance(session)).values())


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (binary order)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF or 0xD7FF <= last <= 0xDFFF:
        return None
    return prefix[:-1] + chr(last + 1)


async def transactions_by_reference_prefix(
    session: AsyncSession, prefix: str
) -> list[LedgerTransaction]:
    """Transactions whose reference starts with ``prefix`` (e.g. ``"order:42:"``), oldest first.

    Case-sensitive on both databases: LIKE on PostgreSQL (text_pattern_ops index), a binary
    range on SQLite, whose LIKE would ignore case.
    """
    if not isinstance(prefix, str) or not prefix:
        raise ValueError("prefix must be a non-empty string")
    ref = LedgerTransaction.reference
    cond: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        cond = ref.startswith(prefix, autoescape=True)
    else:
        upper = _successor(prefix)
        cond = (
            and_(ref >= prefix, ref < upper)
            if upper is not None
            else func.substr(ref, 1, len(prefix)) == prefix
        )
    rows = await session.scalars(
        select(LedgerTransaction).where(cond).order_by(LedgerTransaction.id)
    )
    return list(rows.all())


async def latest_posting_id(session: AsyncSession, account: AccountKey) -> int:
    """The id of the account's newest posting (0 if none): a cheap "has it moved?" for caches
    of figures read from the account (one look-up in the (account, transaction) index)."""
    found = await session.scalar(
        select(func.max(LedgerPosting.id))
        .select_from(LedgerPosting)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(key_filter([account]))
    )
    return 0 if found is None else int(found)
