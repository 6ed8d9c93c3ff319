"""Property: commissions, agency shares, platform subsidies (discounts and free shipping),
shipping fees, refunds and payouts keep the ledger summing to zero per currency; the creator,
agency, seller, tax authority and platform are owed exactly what the orders say (net of
refunds, minus what was paid out); a campaign never spends past its budget — both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.affiliates import agencies, contracts, plans
from liveshop.catalog.products import get_sku
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.ledger.parties import PartyKind
from liveshop.markets.service import update_rates
from liveshop.orders import lifecycle
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.payouts import paying, statements
from liveshop.promotions import campaigns
from liveshop.promotions.models import CampaignKind, SubsidyCampaign, SubsidyClaim
from tests.conftest import reset_database
from tests.shopfront import buy_in_live, new_user, one_sku_shop, start_session

op = st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 3)),
    st.tuples(st.just("refund"), st.integers(0, 20)),
    st.tuples(st.just("payout"), st.just(0)),
)


async def _scenario(
    db: Database,
    rate_bp: int,
    share_bp: int,
    price: int,
    subsidy: int,
    ops: list[tuple[str, int]],
    fee: int = 0,
    free_cap: int = 0,
) -> None:
    await reset_database(db)
    provider = SandboxProvider("p", delay_s=-1)
    async with db.session() as s:
        await update_rates(s, "GB", shipping_fee_minor=fee)
        buyer = await new_user(s, "b@example.com", Role.BUYER)
        creator = await new_user(s, "c@example.com", Role.CREATOR)
        owner = await new_user(s, "a@example.com", Role.AGENCY)
    shop_id, sku = await one_sku_shop(db, price)
    async with db.session() as s:
        product_id = (await get_sku(s, sku)).product_id
        agency = await agencies.create_agency(s, name="A", owner_id=owner)
        await agencies.add_member(s, agency, creator)
        await contracts.create_contract(
            s,
            creator_id=creator,
            currency="GBP",
            agency_id=agency.id,
            agency_share_bp=share_bp,
        )
        await plans.create_plan(
            s,
            shop_id=shop_id,
            kind=plans.PlanKind.OPEN,
            items=[plans.PlanItemSpec(rate_bp=rate_bp, product_id=product_id)],
        )
        if subsidy:
            await campaigns.create_campaign(
                s,
                market_code="GB",
                currency="GBP",
                kind=CampaignKind.FIXED_DISCOUNT_MINOR,
                value=subsidy,
                per_order_cap_minor=subsidy,
                budget_minor=subsidy * 3,
            )
        if free_cap:  # free shipping up to the cap, for about three orders
            await campaigns.create_campaign(
                s,
                market_code="GB",
                currency="GBP",
                kind=CampaignKind.FREE_SHIPPING,
                value=0,
                per_order_cap_minor=free_cap,
                budget_minor=free_cap * 3,
            )
        agency_id = agency.id
    live_id = await start_session(db, creator)
    start = utcnow() - timedelta(seconds=1)
    orders: list[int] = []
    paid_out = {PartyKind.CREATOR: 0, PartyKind.AGENCY: 0}
    for n, (kind, a) in enumerate(ops):
        async with db.session() as s:
            try:
                if kind == "buy":
                    orders.append(
                        await buy_in_live(
                            s,
                            provider,
                            buyer_id=buyer,
                            sku_id=sku,
                            live_session_id=live_id,
                            quantity=a,
                            key=f"k{n}",
                        )
                    )
                elif kind == "refund" and orders:
                    order = await s.get(Order, orders[a % len(orders)])
                    assert order is not None
                    await lifecycle.refund(
                        s,
                        provider,
                        order.id,
                        [lifecycle.RefundLine(order.lines[0].id, 1)],
                        actor_id=None,
                        reason="p",
                    )
                elif kind == "payout":
                    # Everything owed so far, whatever the return window says (direct payout).
                    end = utcnow()
                    for party, pid in ((PartyKind.CREATOR, creator), (PartyKind.AGENCY, agency_id)):
                        row = await statements.create_statement(
                            s,
                            party_kind=party,
                            party_id=pid,
                            currency="GBP",
                            period_start=start,
                            period_end=end,
                        )
                        row.payout_minor = max(0, row.closing_owed_minor)
                        row.status = "open" if row.payout_minor else "nothing_due"
                        await s.commit()
                        if row.payout_minor:
                            await paying.pay_statement(s, row.id)
                            paid_out[party] += row.payout_minor
                    start = end
            except Problem:
                await s.rollback()
    await _check(db, creator, agency_id, share_bp, paid_out, shop_id)


async def _check(
    db: Database,
    creator: int,
    agency_id: int,
    share_bp: int,
    paid_out: dict[PartyKind, int],
    shop_id: int,
) -> None:
    split = contracts.AgencySplit(agency_id, share_bp)
    want_creator = want_agency = want_seller = want_tax = want_subsidy = want_clearing = 0
    async with db.session() as s:
        for order in (await s.scalars(select(Order))).all():
            if order.paid_at is None:
                continue
            assert 0 <= order.shipping_subsidy_minor <= order.shipping_minor
            assert order.total_minor == (
                order.items_minor
                - order.subsidy_minor
                + order.shipping_minor
                - order.shipping_subsidy_minor
            )
            want_clearing += order.total_minor - order.refunded_minor
            units = sum(ln.quantity for ln in order.lines)
            back = sum(ln.refunded_quantity for ln in order.lines)

            def kept_shipping(x: int, u: int = units, b: int = back) -> int:
                return x - x * b // u

            want_seller += kept_shipping(order.shipping_minor) - kept_shipping(
                order.shipping_tax_minor
            )
            want_tax += kept_shipping(order.shipping_tax_minor)
            want_subsidy += kept_shipping(order.shipping_subsidy_minor)
            for ln in order.lines:
                q, r = ln.quantity, ln.refunded_quantity

                def rest(x: int, q: int = q, r: int = r) -> int:
                    return x - x * r // q

                c = ln.creator_commission_minor
                agency_whole = split.agency_part(c)
                rest_c = c - c * r // q
                rest_a = agency_whole - agency_whole * r // q
                want_agency += rest_a
                want_creator += rest_c - rest_a
                want_seller += (
                    rest(ln.gross_minor)
                    - rest(ln.tax_minor)
                    - rest(ln.platform_commission_minor)
                    - rest_c
                )
                want_tax += rest(ln.tax_minor)
                want_subsidy += rest(ln.subsidy_minor)
        assert set((await ledger.trial_balance(s)).values()) <= {0}

        def owed(t: AccountType, party: str) -> ledger.AccountKey:
            return ledger.AccountKey(t, party, "GBP")

        assert -await ledger.balance(s, owed(AccountType.SELLER_PAYABLE, f"shop:{shop_id}")) == (
            want_seller
        )
        assert -await ledger.balance(s, owed(AccountType.TAX_PAYABLE, "market:GB")) == want_tax
        expense = await ledger.balance(s, owed(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB"))
        assert expense == want_subsidy
        clearing = await ledger.balance(s, owed(AccountType.PAYMENT_CLEARING, "provider:sandbox"))
        assert clearing == want_clearing
        # A campaign's spent budget is exactly the subsidy its orders still hold: a refund gives
        # back what its reversal took from platform_subsidy_expense, never more than claimed.
        by_id = {o.id: o for o in (await s.scalars(select(Order))).all()}
        kept: dict[int, int] = {}
        unpaid_held = 0  # claimed by orders not paid (yet): not in the ledger
        for claim in (await s.scalars(select(SubsidyClaim))).all():
            assert 0 <= claim.returned_minor <= claim.amount_minor
            assert claim.order_id is not None
            order = by_id[claim.order_id]
            units = sum(ln.quantity for ln in order.lines)
            back = sum(ln.refunded_quantity for ln in order.lines)
            campaign_kind = await s.scalar(
                select(SubsidyCampaign.kind).where(SubsidyCampaign.id == claim.campaign_id)
            )
            if campaign_kind == CampaignKind.FREE_SHIPPING:
                assert claim.amount_minor == order.shipping_subsidy_minor
                held = order.shipping_subsidy_minor - order.shipping_subsidy_minor * back // units
            else:
                assert claim.amount_minor == order.subsidy_minor
                held = sum(
                    ln.subsidy_minor - ln.subsidy_minor * ln.refunded_quantity // ln.quantity
                    for ln in order.lines
                )
            assert claim.amount_minor - claim.returned_minor == held
            kept[claim.campaign_id] = kept.get(claim.campaign_id, 0) + held
            unpaid_held += 0 if order.paid_at is not None else held
        campaigns = (
            await s.scalars(select(SubsidyCampaign).execution_options(populate_existing=True))
        ).all()
        for campaign in campaigns:
            assert 0 <= campaign.spent_minor <= campaign.budget_minor
            assert campaign.spent_minor == kept.get(campaign.id, 0)
        assert sum(c.spent_minor for c in campaigns) == expense + unpaid_held
        creator_owed = -await ledger.balance(
            s, ledger.AccountKey(AccountType.CREATOR_PAYABLE, f"creator:{creator}", "GBP")
        )
        agency_owed = -await ledger.balance(
            s, ledger.AccountKey(AccountType.AGENCY_PAYABLE, f"agency:{agency_id}", "GBP")
        )
    assert creator_owed + paid_out[PartyKind.CREATOR] == want_creator
    assert agency_owed + paid_out[PartyKind.AGENCY] == want_agency


def test_commissions_shares_subsidies_refunds_and_payouts_balance(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        rate_bp=st.integers(0, 3000),
        share_bp=st.integers(0, 10_000),
        price=st.integers(1, 99_999),
        subsidy=st.sampled_from([0, 1, 150]),
        ops=st.lists(op, min_size=1, max_size=10),
        fee=st.sampled_from([0, 1, 299, 300, 1001]),
        free_cap=st.sampled_from([0, 1, 150, 10_000]),
    )
    def run(
        rate_bp: int,
        share_bp: int,
        price: int,
        subsidy: int,
        ops: list[tuple[str, int]],
        fee: int,
        free_cap: int,
    ) -> None:
        loop.run_until_complete(
            _scenario(db, rate_bp, share_bp, price, subsidy, ops, fee, free_cap)
        )

    try:
        run()
    finally:
        loop.run_until_complete(reset_database(db))
        loop.run_until_complete(db.dispose())
        loop.close()
