"""Whose money a signed-in user may read, and each party's ledger as that party reads it.

A user *is* the creator ``creator:<their id>`` (with the creator role), the shop of every shop
they staff and the agency of every agency they own; admins may read any party. For a party
and a currency this module gives:

- ``entries``: every line of its payable account with its **reason** — a sale or a refund of an
  order (with the order's id), a show's base fee or GMV bonus, a bonus reversal (a refund took
  the show's GMV back below a threshold), a payout (with its statement's id) — and what is owed
  after it;
- ``held``: what is owed on orders still inside delivery + return window, per order, **why it
  is held** and the date it becomes payable (delivery + the window frozen on the order; not
  known until the order is delivered).

Everything is read from the ledger (append-only) and the orders' accrual
(``creators.order_facts``), so the sum of the entries is what the ledger says is owed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.affiliates import agencies
from liveshop.catalog.service import is_shop_staff, shop_ids_of
from liveshop.core.errors import Forbidden, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.creators.bonus_reversals import REVERSAL_KIND
from liveshop.creators.order_facts import (
    PENDING,
    Accrual,
    accrual_by_order,
    live_id_of,
    order_id_of,
)
from liveshop.ledger.models import LedgerAccount
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.service import statement
from liveshop.payouts.models import PayoutStatement


@dataclass(frozen=True, slots=True, order=True)
class Party:
    kind: PartyKind
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Party:
        kind, _sep, ident = text.partition(":")
        if kind not in {k.value for k in PartyKind} or not ident.isdecimal() or len(ident) > 18:
            raise NotFound(_("no party %(party)s", party=repr(text[:40])), code="party-not-found")
        return cls(PartyKind(kind), int(ident))


async def parties_of(session: AsyncSession, principal: Principal) -> list[Party]:
    """The parties the user is: their creator account, their shops, their agencies."""
    out: list[Party] = []
    if Role.CREATOR in principal.roles:
        out.append(Party(PartyKind.CREATOR, principal.user_id))
    out += [Party(PartyKind.SHOP, s) for s in sorted(await shop_ids_of(session, principal.user_id))]
    out += [
        Party(PartyKind.AGENCY, a)
        for a in sorted(await agencies.agencies_owned_by(session, principal.user_id))
    ]
    return out


async def may_read(session: AsyncSession, principal: Principal, party: Party) -> bool:
    if principal.is_admin:
        return True
    if party.kind is PartyKind.CREATOR:
        return party.id == principal.user_id
    if party.kind is PartyKind.SHOP:
        return await is_shop_staff(session, principal.user_id, party.id)
    try:
        agency = await agencies.get_agency(session, party.id)
    except NotFound:
        return False
    return agency.owner_id == principal.user_id


async def ensure_may_read(session: AsyncSession, principal: Principal, party: Party) -> None:
    if not await may_read(session, principal, party):
        raise Forbidden(_("this money belongs to someone else"), code="not-your-account")


async def currencies_of(session: AsyncSession, party: Party) -> list[str]:
    """The currencies the party holds a payable account in (those posted to)."""
    key = payable_account(party.kind, party.id, "XXX")
    rows = await session.scalars(
        select(LedgerAccount.currency)
        .where(LedgerAccount.type == str(key.type), LedgerAccount.party == key.party)
        .order_by(LedgerAccount.currency)
    )
    return list(rows.all())


async def statements_of(session: AsyncSession, parties: list[Party]) -> list[PayoutStatement]:
    """The parties' statements, newest period first."""
    if not parties:
        return []
    rows: list[PayoutStatement] = []
    for p in parties:
        found = await session.scalars(
            select(PayoutStatement).where(
                PayoutStatement.party_kind == str(p.kind), PayoutStatement.party_id == p.id
            )
        )
        rows += found.all()
    return sorted(rows, key=lambda r: (r.period_end, r.id), reverse=True)


# -- the ledger as the party reads it ---------------------------------------------------------

ORDER_SALE = "order"
REFUND = "refund"
BASE_FEE = "base_fee"
BONUS = "bonus"
BONUS_REVERSAL = "bonus_reversal"
PAYOUT = "payout"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    reference: str
    reason: str  # ORDER_SALE, REFUND, BASE_FEE, BONUS, BONUS_REVERSAL, PAYOUT, OTHER
    memo: str
    order_id: int | None
    live_session_id: int | None
    statement_id: int | None
    amount_minor: int  # + owed to the party, - taken back or paid out
    owed_after_minor: int


def reason_of(kind: str, reference: str) -> str:
    if kind == REVERSAL_KIND:
        return BONUS_REVERSAL
    if kind == "payout" or reference.startswith("payout:"):
        return PAYOUT
    if order_id_of(reference) is not None:
        return REFUND if ":refund" in reference else ORDER_SALE
    if live_id_of(reference) is not None:
        return BASE_FEE if reference.endswith(":base_fee") else BONUS
    return OTHER


def _statement_id(reference: str) -> int | None:
    head, _sep, tail = reference.partition(":")
    return int(tail) if head == "payout" and tail.isdecimal() else None


async def entries(session: AsyncSession, party: Party, currency: str) -> list[Entry]:
    """Every line of the party's payable account, oldest first, each with its reason."""
    st = await statement(session, payable_account(party.kind, party.id, currency))
    return [
        Entry(
            at=ln.created_at,
            reference=ln.reference,
            reason=reason_of(ln.kind, ln.reference),
            memo=ln.memo,
            order_id=order_id_of(ln.reference),
            live_session_id=live_id_of(ln.reference),
            statement_id=_statement_id(ln.reference),
            amount_minor=-ln.amount_minor,
            owed_after_minor=-ln.balance_minor,
        )
        for ln in st.lines
    ]


AWAITING_DELIVERY = "awaiting_delivery"
RETURN_WINDOW = "return_window"


@dataclass(frozen=True, slots=True)
class Held:
    """What is owed on one order whose return window has not passed, and why."""

    order_id: int
    amount_minor: int
    why: str  # AWAITING_DELIVERY or RETURN_WINDOW
    return_window_days: int
    delivered_at: datetime | None
    payable_on: datetime | None  # None until the order is delivered


def held(rows: list[Entry], states: dict[int, Accrual]) -> list[Held]:
    """Per pending order, what its entries owe (soonest payable first)."""
    per_order: dict[int, int] = defaultdict(int)
    for e in rows:
        if e.order_id is not None:
            per_order[e.order_id] += e.amount_minor
    out = []
    for oid, amount in per_order.items():
        state = states.get(oid)
        if amount == 0 or state is None or state.state != PENDING:
            continue
        out.append(
            Held(
                order_id=oid,
                amount_minor=amount,
                why=RETURN_WINDOW if state.payable_on is not None else AWAITING_DELIVERY,
                return_window_days=state.return_window_days,
                delivered_at=state.delivered_at,
                payable_on=state.payable_on,
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(out, key=lambda h: (h.payable_on or far, h.order_id))


@dataclass(frozen=True, slots=True)
class LedgerView:
    party: Party
    currency: str
    entries: list[Entry]
    held: list[Held]

    @property
    def owed_minor(self) -> int:
        return self.entries[-1].owed_after_minor if self.entries else 0

    @property
    def held_minor(self) -> int:
        return sum(h.amount_minor for h in self.held)

    @property
    def payable_now_minor(self) -> int:
        return max(0, self.owed_minor - max(0, self.held_minor))


async def ledger_view(session: AsyncSession, party: Party, currency: str) -> LedgerView:
    rows = await entries(session, party, currency)
    ids = sorted({e.order_id for e in rows if e.order_id is not None})
    states = await accrual_by_order(session, ids)
    return LedgerView(party, currency, rows, held(rows, states))
