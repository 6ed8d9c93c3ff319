"""The worked example of docs/creator-economy.md, computed through the real services.

A 4-hour UK live session; the creator's contract: £1,500 base fee per session (at least 2 h
live), 20 % of everything to their agency; the shop's plan: 12 % commission on the serum
(£24.00 incl. 20 % VAT; the platform's commission in GB is 5 %); shipping is the UK's flat
£3.00 per order (VAT included), which the seller receives. 340 orders of one serum each are
paid, 5 of them are refunded in full. Every figure below is in the document.
"""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.affiliates import agencies, contracts, plans
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators import settlement
from liveshop.creators.attribution import resolve_checkout_attribution
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.markets.service import get_market
from liveshop.orders import lifecycle, payment_flow
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from tests.shopfront import MakeShopfront, end_session, start_session
from tests.support import MakeActor

ORDERS, REFUNDS = 340, 5


async def test_four_hour_uk_session(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR)
    owner = await make_actor(Role.AGENCY)
    buyer = await make_actor(Role.BUYER)
    shop = await make_shopfront(stock=ORDERS, price=2400)
    async with db.session() as s:
        gb = await get_market(s, "GB")
        assert gb.shipping_fee_minor == 300  # the example uses the UK's default fee
        await s.rollback()
        agency = await agencies.create_agency(s, name="Northern Lights MCN", owner_id=owner.id)
        await agencies.add_member(s, agency, creator.id)
        await contracts.create_contract(
            s,
            creator_id=creator.id,
            currency="GBP",
            base_fee_minor=150_000,
            min_live_minutes=120,
            agency_id=agency.id,
            agency_share_bp=2000,
        )
        await plans.create_plan(
            s,
            shop_id=shop.shop_id,
            kind=plans.PlanKind.OPEN,
            items=[plans.PlanItemSpec(rate_bp=1200, product_id=shop.product_id)],
        )
        agency_id = agency.id
    live_id = await start_session(db, creator.id)
    provider = SandboxProvider("example", delay_s=-1)
    card = CardDetails(CARD_SUCCEEDS, 12, utcnow().year + 2, "123")
    orders = []
    async with db.session() as s:
        who = await resolve_checkout_attribution(
            s, buyer_id=buyer.id, market_code="GB", sku_ids=[shop.sku_id], live_session_id=live_id
        )
        assert who is not None and who.creator_id == creator.id
    for n in range(ORDERS):  # a session per order, as a request has
        async with db.session() as s:
            placed = await place_order(
                s,
                buyer_id=buyer.id,
                market_code="GB",
                lines=[CheckoutLine(sku_id=shop.sku_id, quantity=1)],
                idempotency_key=f"example-{n}",
                attribution=who,
            )
            paid = await payment_flow.pay_order(
                s, provider, order_id=placed.order.id, buyer_id=buyer.id, card=card
            )
            orders.append(paid)
    async with db.session() as s:
        for order in orders[:REFUNDS]:
            await lifecycle.refund(
                s,
                provider,
                order.id,
                [lifecycle.RefundLine(order.lines[0].id, 1)],
                actor_id=shop.seller.id,
                reason="changed my mind",
            )
    await end_session(db, live_id, minutes=240)
    async with db.session() as s:
        settled = await settlement.settle_session(s, live_id)
    assert (settled.status, settled.base_fee_minor) == ("earned", 150_000)

    async def owed(type_: AccountType, party: str) -> int:
        async with db.session(deferred=True) as s:
            return await ledger.balance(s, ledger.AccountKey(type_, party, "GBP"))

    kept = ORDERS - REFUNDS  # 335 orders of £24.00 + £3.00 shipping
    assert orders[-1].total_minor == 2700 and orders[-1].shipping_tax_minor == 50
    assert -await owed(AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 184_320
    assert -await owed(AccountType.AGENCY_PAYABLE, f"agency:{agency_id}") == 46_080
    assert -await owed(AccountType.SELLER_PAYABLE, f"shop:{shop.shop_id}") == kept * (1660 + 250)
    assert -await owed(AccountType.SELLER_PAYABLE, f"shop:{shop.shop_id}") == 639_850
    assert -await owed(AccountType.PLATFORM_REVENUE, "market:GB") == 33_500
    assert await owed(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB") == 150_000
    assert -await owed(AccountType.TAX_PAYABLE, "market:GB") == kept * (400 + 50) == 150_750
    assert await owed(AccountType.PAYMENT_CLEARING, "provider:sandbox") == 904_500
    assert await owed(AccountType.REFUNDS_PAYABLE, "provider:sandbox") == 0
    async with db.session(deferred=True) as s:
        assert await ledger.trial_balance(s) == {"GBP": 0}

    # The creator's studio shows the same money, and £460.80 per live hour.
    resp = await client.get(
        f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=creator.headers
    )
    assert resp.status_code == 200, resp.text
    e = resp.json()
    assert (e["orders"], e["gmv_minor"], e["live_minutes"]) == (kept, 804_000, 240)
    assert (e["base_fee_status"], e["base_fee_minor"]) == ("earned", 120_000)
    assert e["commission_pending_minor"] == 64_320
    assert e["projected_total_minor"] == 184_320
    assert e["per_live_hour_minor"] == 46_080
    costs = await client.get(
        f"/api/v1/shops/{shop.shop_id}/creator-costs", headers=shop.seller.headers
    )
    row = costs.json()["sessions"][0]
    assert (row["creator_commission_minor"], row["base_fee_minor"]) == (80_400, 150_000)
    assert row["cost_share_bp"] == (80_400 + 150_000) * 10_000 // 804_000
