"""A buyer's claims on drops: see them, pay them, give them up; the lottery's public record.

The tap itself (``POST /api/v1/live/deals/{deal_id}/claim``) is a plain Starlette route on the
hot path (``live.deals.fast``); everything after it is ordinary API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.deps import (
    BuyerPrincipal,
    CachedBuyerPrincipal,
    MaybePrincipal,
    SessionDep,
    per_user,
)
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import Id, Line
from liveshop.live.deals import claim_upkeep, lottery, shelf
from liveshop.live.deals import service as deals
from liveshop.live.deals.claim_checkout import checkout_claim, quote_claim
from liveshop.live.deals.desk import desk_of
from liveshop.live.deals.models import DealPolicy
from liveshop.live.deals.pay_desk import ClaimKind, PayClaim, pay_desk_of
from liveshop.markets.service import get_market
from liveshop.orders import payment_flow
from liveshop.orders.checkout import PlacedOrder
from liveshop.orders.payment_method import payment_source
from liveshop.orders.payments.provider import PaymentSource
from liveshop.orders.router import notifier_of, provider_of
from liveshop.orders.schemas import OrderOut, QuoteOut, SavedCardId

router = APIRouter(prefix="/api/v1/live", tags=["drops"], responses=PROBLEM_RESPONSES)

# A held claim's quotes and releases (drop and shelf claims alike), per buyer.
HELD_CLAIM = [Depends(per_user(Bucket.HELD_CLAIM))]


class ClaimOut(BaseModel):
    claim_id: int
    deal_id: int
    quantity: int
    status: str = Field(description="held, ordered, expired or released")
    expires_at: datetime
    pay_within_s: int = Field(description="Seconds left to pay a held claim (0 otherwise)")
    order_id: int | None


class EntryOut(BaseModel):
    ticket: int = Field(description="Number in line (queue) or entry number (lottery)")
    quantity: int
    status: str = Field(description="waiting, served, skipped or closed")
    rank: int | None = Field(description="Place in the serving order (lottery: once drawn)")
    position: int | None = Field(description="Places to go until served (1: next)")


class MyDropOut(BaseModel):
    deal_id: int
    policy: str
    claims: list[ClaimOut]
    entry: EntryOut | None
    units: int = Field(description="Units counted against the per-buyer limit")
    remaining_for_you: int | None


@router.get("/deals/{deal_id}/mine")
async def my_drop(deal_id: Id, principal: BuyerPrincipal, session: SessionDep) -> MyDropOut:
    """The caller's claims, place in line or lottery entry in this drop."""
    deal = await deals.get_deal(session, deal_id)
    mine = await claim_upkeep.my_drop(session, deal, principal.user_id)
    now = utcnow()
    entry = None
    if mine.entry is not None:
        e = mine.entry
        position = None
        if e.status == "waiting" and e.rank is not None:
            position = max(1, e.rank - deal.served_through)
        entry = EntryOut(
            ticket=e.seq, quantity=e.quantity, status=e.status, rank=e.rank, position=position
        )
    limit = deal.per_buyer_limit
    return MyDropOut(
        deal_id=deal.id,
        policy=deal.policy,
        claims=[
            ClaimOut(
                claim_id=c.id,
                deal_id=c.deal_id,
                quantity=c.quantity,
                status=c.status,
                expires_at=c.expires_at,
                pay_within_s=max(0, int((c.expires_at - now).total_seconds()))
                if c.status == "held"
                else 0,
                order_id=c.order_id,
            )
            for c in mine.claims
        ],
        entry=entry,
        units=mine.units,
        remaining_for_you=None if limit is None else max(0, limit - mine.units),
    )


class PayClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_number: str | None = Field(
        default=None,
        min_length=12,
        max_length=23,
        pattern=r"^[0-9 -]+$",
        description="Pay now with this (sandbox) card; without a card the order waits for "
        "POST /orders/{id}/pay within the claim's hold",
    )
    saved_card_id: SavedCardId | None = None
    use_default_card: bool = Field(
        default=False, strict=True, description="Pay now with your default saved card"
    )
    expected_total_minor: int | None = Field(
        default=None,
        ge=0,
        le=2**62,
        strict=True,
        description="The total the buyer was shown: any other is refused (409 price-changed)",
    )
    address_id: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        strict=True,
        description="Deliver to this one of your addresses (in the market's country); "
        "without it, your default address there",
    )
    coupon_code: Line | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="A coupon code of the product's shop (its discount shows in the quote)",
    )


class ClaimQuoteIn(BaseModel):
    """Optional body of a claim's quote: the coupon the buyer typed."""

    model_config = ConfigDict(extra="forbid")
    coupon_code: Line | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="A coupon code of the product's shop (its discount shows in the quote)",
    )


@router.post(
    "/claims/{claim_id}/pay",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    dependencies=[Depends(per_user(Bucket.PAY, cached=True))],
    responses=RATE_LIMITED,
)
async def pay_claim(
    claim_id: Id,
    body: PayClaimIn,
    request: Request,
    principal: CachedBuyerPrincipal,
    session: SessionDep,
) -> JSONResponse:
    """Check out a held claim at the deal price (attributed to the show and its creator),
    and pay it when a card is given. Repeating it returns the same order. Who is asking is
    read from the node's token cache: a drop's winners all pay at once."""
    return await _pay_claim(
        session, request, body, principal.user_id, claim_id, ClaimKind.DEAL, checkout_claim
    )


class _Checkout(Protocol):
    """A kind's single-way checkout of a held claim (``checkout_claim``,
    ``shelf.checkout_shelf_claim``)."""

    async def __call__(
        self,
        session: AsyncSession,
        claim_id: int,
        *,
        buyer_id: int,
        expected_total_minor: int | None = None,
        address_id: int | None = None,
        coupon_code: str | None = None,
    ) -> PlacedOrder: ...


async def _pay_claim(
    session: AsyncSession,
    request: Request,
    body: PayClaimIn,
    buyer_id: int,
    claim_id: int,
    kind: ClaimKind,
    checkout: _Checkout,
) -> JSONResponse:
    """A drop's or a shelf claim paid in the node's batch (``pay_desk``: default address, no
    coupon); else the single way: ``checkout`` (the kind's, which prices a chosen address or
    a coupon) then paid with the card given (no card: the order is only placed)."""
    card = await payment_source(session, provider_of(request), buyer_id, body)
    if card is not None and body.address_id is None and body.coupon_code is None:
        # This request's own transaction ends first: the batch writes in its own (on SQLite
        # one writer at a time — a transaction left open here would wait on the batch).
        await session.commit()
        paid = await pay_desk_of(request).pay(
            PayClaim(
                claim_id=claim_id,
                buyer_id=buyer_id,
                card=card,
                expected_total_minor=body.expected_total_minor,
                kind=kind,
            )
        )
        if paid is not None:
            out = OrderOut.of(paid.order, paid.market, financials=False)
            return JSONResponse(out.model_dump(mode="json"), status_code=201)
    placed = await checkout(
        session,
        claim_id,
        buyer_id=buyer_id,
        expected_total_minor=body.expected_total_minor,
        address_id=body.address_id,
        coupon_code=body.coupon_code,
    )
    return await _pay_placed(session, request, placed, card, buyer_id)


async def _pay_placed(
    session: AsyncSession,
    request: Request,
    placed: PlacedOrder,
    card: PaymentSource | None,
    buyer_id: int,
) -> JSONResponse:
    """A claim's order placed the single way: paid now when a card was given; the answer
    (200 when the order was already there, else 201)."""
    order = placed.order
    if card is not None and order.paid_at is None:
        order = await payment_flow.pay_order(
            session,
            provider_of(request),
            order_id=order.id,
            buyer_id=buyer_id,
            card=card,
            notifier=notifier_of(request),
        )
    market = await get_market(session, order.market_code)
    out = OrderOut.of(order, market, financials=False)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if placed.replayed else 201)


@router.post(
    "/claims/{claim_id}/quote",
    dependencies=HELD_CLAIM,
    responses=RATE_LIMITED,
)
async def quote_a_claim(
    claim_id: Id,
    principal: BuyerPrincipal,
    session: SessionDep,
    body: ClaimQuoteIn | None = None,
) -> QuoteOut:
    """What paying the held claim would charge now (nothing is taken): show it, then send its
    ``total_minor`` as ``expected_total_minor`` (and the same ``coupon_code``) to ``…/pay``."""
    code = body.coupon_code if body is not None else None
    return QuoteOut.of(
        await quote_claim(session, claim_id, buyer_id=principal.user_id, coupon_code=code)
    )


@router.post(
    "/claims/{claim_id}/release",
    dependencies=HELD_CLAIM,
    responses=RATE_LIMITED,
)
async def give_up_claim(
    claim_id: Id, request: Request, principal: BuyerPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Let a held claim go: its units go to the next buyer (the head of a queue's line)."""
    settled = await claim_upkeep.give_up(session, claim_id, principal.user_id)
    await desk_of(request).serve(settled.deal_id)
    return {"claim_id": settled.claim_id, "status": "released"}


class ShelfClaimOut(BaseModel):
    claim_id: int
    session_id: int
    sku_id: int
    product_id: int
    quantity: int
    status: str = Field(description="held, ordered, expired or released")
    expires_at: datetime
    pay_within_s: int = Field(description="Seconds left to pay a held claim (0 otherwise)")
    order_id: int | None


@router.get("/shelf-claims/{claim_id}")
async def get_shelf_claim(
    claim_id: Id, principal: BuyerPrincipal, session: SessionDep
) -> ShelfClaimOut:
    """A claim the caller's tap made on a product on show in a live room (no deal): made by
    ``POST /api/v1/live/sessions/{id}/claim`` (or the room socket's ``claim`` with
    ``sku_id``)."""
    claim = await shelf.get_shelf_claim(session, claim_id, principal.user_id)
    seen = await shelf.view(session, claim)
    return ShelfClaimOut(
        claim_id=claim.id,
        session_id=claim.session_id,
        sku_id=claim.sku_id,
        product_id=claim.product_id,
        quantity=claim.quantity,
        status=seen.status,
        expires_at=claim.expires_at,
        pay_within_s=seen.pay_within_s,
        order_id=claim.order_id,
    )


@router.post(
    "/shelf-claims/{claim_id}/quote",
    dependencies=HELD_CLAIM,
    responses=RATE_LIMITED,
)
async def quote_a_shelf_claim(
    claim_id: Id,
    principal: BuyerPrincipal,
    session: SessionDep,
    body: ClaimQuoteIn | None = None,
) -> QuoteOut:
    """What paying the held claim would charge now (nothing is taken)."""
    code = body.coupon_code if body is not None else None
    quote = await shelf.quote_shelf_claim(
        session, claim_id, buyer_id=principal.user_id, coupon_code=code
    )
    return QuoteOut.of(quote)


@router.post(
    "/shelf-claims/{claim_id}/pay",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    dependencies=[Depends(per_user(Bucket.PAY, cached=True))],
    responses=RATE_LIMITED,
)
async def pay_shelf_claim(
    claim_id: Id,
    body: PayClaimIn,
    request: Request,
    principal: CachedBuyerPrincipal,
    session: SessionDep,
) -> JSONResponse:
    """Check out a held shelf claim at the room's price (attributed to the show and its
    creator), and pay it when a card is given. Repeating it returns the same order. Paid in
    the node's batch with the drop's claims when it can be (as ``…/claims/{id}/pay``)."""
    return await _pay_claim(
        session,
        request,
        body,
        principal.user_id,
        claim_id,
        ClaimKind.SHELF,
        shelf.checkout_shelf_claim,
    )


@router.post(
    "/shelf-claims/{claim_id}/release",
    dependencies=HELD_CLAIM,
    responses=RATE_LIMITED,
)
async def give_up_shelf_claim(
    claim_id: Id, request: Request, principal: BuyerPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Let a held shelf claim go: its units are on sale again at once."""
    claim = await shelf.give_up(session, claim_id, principal.user_id)
    await desk_of(request).serve_shelf(claim.session_id, claim.sku_id)
    return {"claim_id": claim.id, "status": "released"}


class LotteryOut(BaseModel):
    deal_id: int
    draw_at: datetime | None
    drawn_at: datetime | None
    seed_sha256: str | None
    seed: str | None = Field(description="Revealed at the draw")
    algorithm: str
    entries: list[dict[str, Any]] = Field(
        description="entry (number), quantity, rank (place in the draw), status"
    )


@router.get("/deals/{deal_id}/lottery")
async def lottery_record(deal_id: Id, session: SessionDep, principal: MaybePrincipal) -> LotteryOut:
    """A lottery drop's public record: the committed seed's hash, the seed once drawn, and
    every entry (numbers, no names) — enough for anyone to re-run the draw."""
    del principal  # public
    deal = await deals.get_deal(session, deal_id)
    if deal.policy != DealPolicy.LOTTERY:
        return LotteryOut(
            deal_id=deal.id,
            draw_at=None,
            drawn_at=None,
            seed_sha256=None,
            seed=None,
            algorithm="this drop is not a lottery",
            entries=[],
        )
    return LotteryOut(
        deal_id=deal.id,
        draw_at=deal.draw_at,
        drawn_at=deal.drawn_at,
        seed_sha256=deal.lottery_seed_sha256,
        seed=deal.lottery_seed if deal.drawn_at is not None else None,
        algorithm=ALGORITHM,
        entries=await lottery.published_entries(session, deal.id),
    )


ALGORITHM = (
    "Check sha256(seed) equals seed_sha256. Sort the entries by "
    'sha256(seed + ":" + str(entry)) as lowercase hex, lowest first; serve them in that '
    "order while units last (an entry over the per-buyer limit is passed over)."
)
