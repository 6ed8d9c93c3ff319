"""How an order's money lands in the ledger (see docs/architecture.md, "Money path").

Paid order, per line: gross = tax + platform commission + creator commission + seller net.
    Dr payment_clearing  (buyer paid: gross − subsidy)
    Dr platform_subsidy_expense  (subsidy the platform funds)
    Cr seller_payable / platform_revenue / tax_payable / creator_payable
Refund of q more units of a line already refunded r of Q: every component is reversed by
``part(x) = x·(r+q)//Q − x·r//Q`` — cumulative floors, so a line refunded in any number of
steps is reversed exactly to the minor unit, and each step still sums to zero.

Shipping (per order): the fee S with its tax T and the platform's free-shipping subsidy F is
one more part with no commissions — the seller, who ships, gets S − T:
    Dr payment_clearing (S − F), Dr platform_subsidy_expense (F)
    Cr seller_payable (S − T), Cr tax_payable (T)
A refund of n more of the order's U units, r already refunded, returns ``x·(r+n)//U − x·r//U``
of each of S, T and F (the same cumulative floors, over the order's units), so refunding every
unit returns the shipping exactly.

Agency share: when the contract in force at purchase (``order.created_at``) gives the creator's
agency a share, the line's creator commission C is split once, exactly, by
``ledger.allocate`` into agency A and creator C − A; a refund reverses A by the same cumulative
floors, so sale and refunds of a line cancel exactly on both accounts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.contracts import AgencySplit, agency_split_at
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, Entry, Posting, append_many, post
from liveshop.orders.models import Order, OrderLine


@dataclass(frozen=True, slots=True)
class LineParts:
    """The share of one line's money that a sale or a refund moves."""

    gross: int
    subsidy: int
    tax: int
    platform: int
    creator: int
    # Which slice of the whole line this is (for splitting the creator's part exactly):
    # units ``already`` .. ``already + more`` of ``quantity``; ``creator_whole`` is the line's
    # full creator commission.
    creator_whole: int = 0
    already: int = 0
    more: int = 1
    quantity: int = 1

    def agency_part(self, split: AgencySplit | None) -> int:
        """The agency's share of this slice's creator commission (cumulative floors)."""
        if split is None:
            return 0
        whole = split.agency_part(self.creator_whole)
        q = self.quantity
        return whole * (self.already + self.more) // q - whole * self.already // q

    @property
    def seller(self) -> int:
        return self.gross - self.tax - self.platform - self.creator

    @property
    def buyer(self) -> int:
        """What the buyer paid for it (or gets back)."""
        return self.gross - self.subsidy


def sale_parts(line: OrderLine) -> LineParts:
    return LineParts(
        gross=line.gross_minor,
        subsidy=line.subsidy_minor,
        tax=line.tax_minor,
        platform=line.platform_commission_minor,
        creator=line.creator_commission_minor,
        creator_whole=line.creator_commission_minor,
        already=0,
        more=line.quantity,
        quantity=line.quantity,
    )


def shipping_parts(order: Order) -> LineParts:
    """The order's shipping as a sale moves it (no commissions: all of it, net of tax, is the
    seller's)."""
    return LineParts(
        gross=order.shipping_minor,
        subsidy=order.shipping_subsidy_minor,
        tax=order.shipping_tax_minor,
        platform=0,
        creator=0,
    )


def shipping_refund_parts(order: Order, *, already: int, more: int) -> LineParts:
    """The shipping that goes back when ``more`` of the order's units are refunded after
    ``already`` were (cumulative floors over all the order's units)."""
    units = sum(line.quantity for line in order.lines)

    def part(x: int) -> int:
        return x * (already + more) // units - x * already // units

    return LineParts(
        gross=part(order.shipping_minor),
        subsidy=part(order.shipping_subsidy_minor),
        tax=part(order.shipping_tax_minor),
        platform=0,
        creator=0,
    )


def refund_parts(line: OrderLine, *, already: int, more: int) -> LineParts:
    q = line.quantity

    def part(x: int) -> int:
        return x * (already + more) // q - x * already // q

    whole = sale_parts(line)
    return LineParts(
        gross=part(whole.gross),
        subsidy=part(whole.subsidy),
        tax=part(whole.tax),
        platform=part(whole.platform),
        creator=part(whole.creator),
        creator_whole=whole.creator,
        already=already,
        more=more,
        quantity=q,
    )


def _postings(
    order: Order,
    parts: list[LineParts],
    provider: str,
    sign: int,
    split: AgencySplit | None = None,
) -> list[Posting]:
    """Sale postings (sign=+1) or their reversal into refunds_payable (sign=-1)."""
    cur = order.currency
    market = f"market:{order.market_code}"
    totals: dict[AccountKey, int] = defaultdict(int)
    buyer_side = (
        AccountKey(AccountType.PAYMENT_CLEARING, f"provider:{provider}", cur)
        if sign > 0
        else AccountKey(AccountType.REFUNDS_PAYABLE, f"provider:{provider}", cur)
    )
    for p in parts:
        totals[buyer_side] += sign * p.buyer
        totals[AccountKey(AccountType.PLATFORM_SUBSIDY_EXPENSE, market, cur)] += sign * p.subsidy
        totals[AccountKey(AccountType.SELLER_PAYABLE, f"shop:{order.shop_id}", cur)] -= (
            sign * p.seller
        )
        totals[AccountKey(AccountType.PLATFORM_REVENUE, market, cur)] -= sign * p.platform
        totals[AccountKey(AccountType.TAX_PAYABLE, market, cur)] -= sign * p.tax
        if order.creator_id is not None:
            agency = p.agency_part(split)
            key = AccountKey(AccountType.CREATOR_PAYABLE, f"creator:{order.creator_id}", cur)
            totals[key] -= sign * (p.creator - agency)
            if split is not None and agency:
                key = AccountKey(AccountType.AGENCY_PAYABLE, f"agency:{split.agency_id}", cur)
                totals[key] -= sign * agency
    return [Posting(account=k, amount_minor=v) for k, v in totals.items() if v != 0]


async def _split(session: AsyncSession, order: Order) -> AgencySplit | None:
    """The agency share of the contract in force when the order was placed (versions never
    change retroactively, so the sale and every later refund find the same one)."""
    if order.creator_id is None:
        return None
    return await agency_split_at(session, order.creator_id, order.created_at)


async def post_sale(session: AsyncSession, order: Order, *, provider: str) -> None:
    """The sale's transaction ``order:<id>:paid`` (idempotent; not read back: the paid path
    is hot and nothing needs the rows again)."""
    await post_sales(session, [order], provider=provider)


async def post_sales(session: AsyncSession, orders: Sequence[Order], *, provider: str) -> None:
    """``post_sale`` for a batch of orders: their transactions in one ``append_many`` (the
    agency split read once per creator and moment of purchase)."""
    splits: dict[tuple[int, object], AgencySplit | None] = {}
    entries = []
    for order in orders:
        split = None
        if order.creator_id is not None:
            at = (order.creator_id, order.created_at)
            if at not in splits:
                splits[at] = await _split(session, order)
            split = splits[at]
        parts = [sale_parts(line) for line in order.lines] + [shipping_parts(order)]
        postings = _postings(order, parts, provider, +1, split)
        if postings:
            entries.append(
                Entry(
                    kind="order.paid",
                    reference=f"order:{order.id}:paid",
                    postings=postings,
                    memo=f"Order {order.id} paid",
                    meta={
                        "order_id": order.id,
                        "shop_id": order.shop_id,
                        "market": order.market_code,
                    },
                )
            )
    await append_many(session, entries)


async def post_refund(
    session: AsyncSession,
    order: Order,
    parts: list[LineParts],
    *,
    refund_id: int,
    provider: str,
) -> None:
    """Reverse the sale pro rata; the buyer's money is owed (refunds_payable) until settled."""
    postings = _postings(order, parts, provider, -1, await _split(session, order))
    if postings:
        await post(
            session,
            kind="order.refund",
            reference=f"order:{order.id}:refund:{refund_id}",
            postings=postings,
            memo=f"Refund {refund_id} of order {order.id}",
            meta={"order_id": order.id, "refund_id": refund_id},
        )


async def post_refund_settled(
    session: AsyncSession, order: Order, *, refund_id: int, amount_minor: int, provider: str
) -> None:
    """The provider returned the money: refunds_payable → payment_clearing."""
    if amount_minor == 0:
        return
    cur = order.currency
    await post(
        session,
        kind="refund.settled",
        reference=f"refund:{refund_id}:settled",
        postings=[
            Posting(
                AccountKey(AccountType.REFUNDS_PAYABLE, f"provider:{provider}", cur), amount_minor
            ),
            Posting(
                AccountKey(AccountType.PAYMENT_CLEARING, f"provider:{provider}", cur), -amount_minor
            ),
        ],
        memo=f"Refund {refund_id} returned to the buyer",
        meta={"order_id": order.id, "refund_id": refund_id},
    )
