"""Property: after a settled session's orders are refunded in any order and amounts, with
payouts in between, its GMV bonuses are what its GMV still earns — the contract's tier bonus
never above the tier the GMV still reaches, the platform campaign's bonus gone once the GMV is
below its threshold and its budget back — and nothing is lost or counted twice: the ledger
balances, the platform's expense is the bonuses kept, and what the creator and agency are owed
plus what they were paid is their commission plus the bonuses kept — both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.affiliates import agencies, contracts, plans
from liveshop.catalog.products import get_sku
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators.bonus_reversals import session_gmv_now
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.ledger.parties import PartyKind
from liveshop.live import service as live
from liveshop.live.models import SessionStatus
from liveshop.orders import lifecycle
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.payouts import paying, statements
from liveshop.payouts.models import StatementStatus
from liveshop.promotions import campaigns
from liveshop.promotions.models import CampaignKind, SubsidyCampaign, SubsidyClaim
from tests.conftest import reset_database
from tests.shopfront import buy_in_live, new_user, one_sku_shop, start_session

step = st.one_of(
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 3)),
    st.tuples(st.just("payout"), st.just(0), st.just(0)),
)
tier = st.fixed_dictionaries(
    {"gmv_minor": st.integers(1, 20_000), "bonus_minor": st.integers(0, 5_000)}
)


def _key(t: AccountType, party: str) -> ledger.AccountKey:
    return ledger.AccountKey(t, party, "GBP")


async def _scenario(
    db: Database,
    price: int,
    share_bp: int,
    tiers: list[dict[str, int]],
    campaign: tuple[int, int] | None,
    quantities: list[int],
    steps: list[tuple[str, int, int]],
) -> None:
    await reset_database(db)
    provider = SandboxProvider("p", delay_s=-1)
    async with db.session() as s:
        buyer = await new_user(s, "b@example.com", Role.BUYER)
        creator = await new_user(s, "c@example.com", Role.CREATOR)
        owner = await new_user(s, "a@example.com", Role.AGENCY)
    shop_id, sku = await one_sku_shop(db, price)
    seen_tiers = {t["gmv_minor"]: t for t in tiers}  # thresholds must differ
    async with db.session() as s:
        product_id = (await get_sku(s, sku)).product_id
        agency = await agencies.create_agency(s, name="A", owner_id=owner)
        await agencies.add_member(s, agency, creator)
        contract = await contracts.create_contract(
            s,
            creator_id=creator,
            currency="GBP",
            agency_id=agency.id,
            agency_share_bp=share_bp,
            gmv_tiers=list(seen_tiers.values()),
        )
        await plans.create_plan(
            s,
            shop_id=shop_id,
            kind=plans.PlanKind.OPEN,
            items=[plans.PlanItemSpec(rate_bp=1000, product_id=product_id)],
        )
        campaign_id = None
        if campaign is not None:
            threshold, value = campaign
            made_campaign = await campaigns.create_campaign(
                s,
                market_code="GB",
                currency="GBP",
                kind=CampaignKind.CREATOR_GMV_BONUS,
                value=value,
                per_order_cap_minor=0,
                budget_minor=value * 2,
                gmv_threshold_minor=threshold,
            )
            campaign_id = made_campaign.id
        agency_id = agency.id
    live_id = await start_session(db, creator)
    period_start = utcnow() - timedelta(seconds=1)
    orders: list[int] = []
    for n, quantity in enumerate(quantities):
        async with db.session() as s:
            orders.append(
                await buy_in_live(
                    s,
                    provider,
                    buyer_id=buyer,
                    sku_id=sku,
                    live_session_id=live_id,
                    quantity=quantity,
                    key=f"k{n}",
                )
            )
    async with db.session() as s:
        row = await live.get_session(s, live_id)
        await live.transition(s, row, SessionStatus.ENDED)  # settles the bonuses
        gmv = await session_gmv_now(s, live_id)
    tier_kept = contracts.tier_bonus(contract, gmv)
    campaign_amount = campaign[1] if campaign is not None and gmv >= campaign[0] else 0
    paid_out = {PartyKind.CREATOR: 0, PartyKind.AGENCY: 0}

    for kind, a, b in steps:
        async with db.session() as s:
            if kind == "refund":
                order = await s.get(Order, orders[a % len(orders)], populate_existing=True)
                assert order is not None
                line = order.lines[0]
                left = line.quantity - line.refunded_quantity
                if left:
                    await lifecycle.refund(
                        s,
                        provider,
                        order.id,
                        [lifecycle.RefundLine(line.id, min(b, left))],
                        actor_id=None,
                        reason="p",
                    )
            else:
                end = utcnow()
                for party, pid in ((PartyKind.CREATOR, creator), (PartyKind.AGENCY, agency_id)):
                    statement = await statements.create_statement(
                        s,
                        party_kind=party,
                        party_id=pid,
                        currency="GBP",
                        period_start=period_start,
                        period_end=end,
                    )
                    if statement.status == StatementStatus.OPEN:
                        await paying.pay_statement(s, statement.id)
                        paid_out[party] += statement.payout_minor
                period_start = end
        async with db.session(deferred=True) as s:
            gmv = await session_gmv_now(s, live_id)
            tier_kept = min(tier_kept, contracts.tier_bonus(contract, gmv))
            if campaign is not None and gmv < campaign[0]:
                campaign_amount = 0
            await _check(
                s,
                live_id=live_id,
                creator=creator,
                agency_id=agency_id,
                tier_kept=tier_kept,
                campaign_id=campaign_id,
                campaign_kept=campaign_amount,
                paid_out=paid_out,
            )


async def _check(
    s: Any,
    *,
    live_id: int,
    creator: int,
    agency_id: int,
    tier_kept: int,
    campaign_id: int | None,
    campaign_kept: int,
    paid_out: dict[PartyKind, int],
) -> None:
    assert set((await ledger.trial_balance(s)).values()) <= {0}
    txs = await ledger.transactions_by_reference_prefix(s, f"live:{live_id}:")

    def expense_of(prefix: str) -> int:
        return sum(
            p.amount_minor
            for tx in txs
            if tx.reference.startswith(prefix)
            for p in tx.postings
            if p.account.type == AccountType.PLATFORM_SUBSIDY_EXPENSE
        )

    # Each bonus is what the GMV still earns.
    assert expense_of(f"live:{live_id}:bonus") == tier_kept
    assert expense_of(f"live:{live_id}:campaign:") == campaign_kept
    assert (
        await ledger.balance(s, _key(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB"))
        == tier_kept + campaign_kept
    )
    # The campaign's budget holds exactly the bonus kept.
    if campaign_id is not None:
        spent = await s.scalar(
            select(SubsidyCampaign.spent_minor)
            .where(SubsidyCampaign.id == campaign_id)
            .execution_options(populate_existing=True)
        )
        assert spent == campaign_kept
        for claim in (
            await s.scalars(select(SubsidyClaim).execution_options(populate_existing=True))
        ).all():
            assert claim.amount_minor - claim.returned_minor == campaign_kept
    # Nothing lost, nothing twice: owed + paid = commission kept + bonuses kept (split as the
    # contract splits them; each bonus split once when granted and reversed in proportion).
    commission = 0
    for order in (await s.scalars(select(Order).execution_options(populate_existing=True))).all():
        for ln in order.lines:
            c = ln.creator_commission_minor
            commission += c - c * ln.refunded_quantity // ln.quantity
    creator_owed = -await ledger.balance(s, _key(AccountType.CREATOR_PAYABLE, f"creator:{creator}"))
    agency_owed = -await ledger.balance(s, _key(AccountType.AGENCY_PAYABLE, f"agency:{agency_id}"))
    total = creator_owed + agency_owed + paid_out[PartyKind.CREATOR] + paid_out[PartyKind.AGENCY]
    assert total == commission + tier_kept + campaign_kept
    # Every reversal is a slice of its grant: what the platform takes back, the creator and
    # agency give back.
    for tx in txs:
        if ":reversal" in tx.reference:
            amounts = {str(p.account.type): p.amount_minor for p in tx.postings}
            assert amounts[AccountType.PLATFORM_SUBSIDY_EXPENSE] < 0
            assert sum(amounts.values()) == 0


def test_bonuses_follow_the_gmv_after_the_session(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        price=st.integers(100, 5_000),
        share_bp=st.integers(0, 10_000),
        tiers=st.lists(tier, max_size=3),
        campaign=st.one_of(st.none(), st.tuples(st.integers(1, 20_000), st.integers(1, 5_000))),
        quantities=st.lists(st.integers(1, 3), min_size=1, max_size=4),
        steps=st.lists(step, min_size=1, max_size=8),
    )
    def run(
        price: int,
        share_bp: int,
        tiers: list[dict[str, int]],
        campaign: tuple[int, int] | None,
        quantities: list[int],
        steps: list[tuple[str, int, int]],
    ) -> None:
        loop.run_until_complete(_scenario(db, price, share_bp, tiers, campaign, quantities, steps))

    try:
        run()
    finally:
        loop.run_until_complete(reset_database(db))
        loop.run_until_complete(db.dispose())
        loop.close()
