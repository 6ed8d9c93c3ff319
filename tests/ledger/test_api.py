"""The ledger API: who may read what, and money as integers with a currency."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.catalog.models import Shop, ShopStaff
from liveshop.ledger import service as ledger
from liveshop.ledger.entries import AccountKey, Posting
from liveshop.ledger.models import AccountType
from tests.support import Actor, MakeActor, assert_problem

CLEARING = AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP")
REVENUE = AccountKey(AccountType.PLATFORM_REVENUE, "market:GB", "GBP")


async def make_shop(session: AsyncSession, slug: str, staff: Actor) -> int:
    shop = Shop(slug=slug, name=slug.title(), home_market="GB")
    session.add(shop)
    await session.flush()
    session.add(ShopStaff(shop_id=shop.id, user_id=staff.id))
    await session.commit()
    return shop.id


async def sell(session: AsyncSession, shop_id: int, creator_id: int, reference: str) -> None:
    """A £24.00 sale: seller £21.84, platform £1.20, creator £0.96 (tax left out here)."""
    await ledger.post(
        session,
        kind="order.paid",
        reference=reference,
        postings=[
            Posting(CLEARING, 2400),
            Posting(AccountKey(AccountType.SELLER_PAYABLE, f"shop:{shop_id}", "GBP"), -2184),
            Posting(REVENUE, -120),
            Posting(AccountKey(AccountType.CREATOR_PAYABLE, f"creator:{creator_id}", "GBP"), -96),
        ],
    )
    await session.commit()


def statement_url(type_: str, party: str, currency: str = "GBP", **extra: str) -> str:
    params = {"type": type_, "party": party, "currency": currency, **extra}
    return "/api/v1/ledger/accounts/statement?" + str(httpx.QueryParams(params))


async def test_admin_reads_trial_balance_and_accounts(
    client: httpx.AsyncClient, session: AsyncSession, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    empty = await client.get("/api/v1/ledger/trial-balance", headers=admin.headers)
    assert empty.json() == {"balanced": True, "currencies": []}
    await sell(session, 1, 7, "order:1:paid")

    resp = await client.get("/api/v1/ledger/trial-balance", headers=admin.headers)
    assert resp.status_code == 200
    assert resp.json() == {"balanced": True, "currencies": [{"currency": "GBP", "sum_minor": 0}]}

    resp = await client.get(
        "/api/v1/ledger/accounts",
        params={"party": "market:GB", "locale": "en_GB"},
        headers=admin.headers,
    )
    assert resp.json() == [
        {
            "type": "platform_revenue",
            "party": "market:GB",
            "currency": "GBP",
            "normal_side": "credit",
            "balance_minor": -120,
            "normal_balance_minor": 120,
            "normal_balance_display": "£1.20",
        }
    ]
    all_accounts = (await client.get("/api/v1/ledger/accounts", headers=admin.headers)).json()
    assert len(all_accounts) == 4
    assert all(isinstance(a["balance_minor"], int) for a in all_accounts)
    for bad, code in (
        ({"currency": "gbp"}, "unknown-currency"),
        ({"party": "shop 1"}, "invalid-party"),
        ({"locale": "xx_QQ"}, "unknown-locale"),
    ):
        assert_problem(
            await client.get("/api/v1/ledger/accounts", params=bad, headers=admin.headers),
            422,
            code,
        )
    assert_problem(
        await client.get("/api/v1/ledger/accounts", params={"type": "cash"}, headers=admin.headers),
        422,
        "validation-error",
    )


async def test_only_admin_reads_the_whole_ledger(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    for path in ("/api/v1/ledger/trial-balance", "/api/v1/ledger/accounts"):
        assert_problem(await client.get(path), 401, "unauthenticated")
        for role in (Role.SELLER, Role.CREATOR, Role.BUYER):
            actor = await make_actor(role)
            assert_problem(await client.get(path, headers=actor.headers), 403, "wrong-role")


async def test_seller_reads_own_shop_statement_only(
    client: httpx.AsyncClient, session: AsyncSession, make_actor: MakeActor
) -> None:
    seller, other = await make_actor(Role.SELLER), await make_actor(Role.SELLER)
    mine = await make_shop(session, "mine", seller)
    theirs = await make_shop(session, "theirs", other)
    await sell(session, mine, 7, "order:1:paid")
    await sell(session, mine, 7, "order:2:paid")
    await sell(session, theirs, 7, "order:3:paid")

    resp = await client.get(statement_url("seller_payable", f"shop:{mine}"), headers=seller.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["account"] == {
        "type": "seller_payable",
        "party": f"shop:{mine}",
        "currency": "GBP",
        "normal_side": "credit",
    }
    assert body["opening_balance_minor"] == 0
    assert [(li["reference"], li["amount_minor"], li["balance_minor"]) for li in body["lines"]] == [
        ("order:1:paid", -2184, -2184),
        ("order:2:paid", -2184, -4368),
    ]
    assert body["closing_balance_minor"] == -4368 and body["owed_to_party_minor"] == 4368
    assert (body["total_debits_minor"], body["total_credits_minor"]) == (0, 4368)

    other_shop = await client.get(
        statement_url("seller_payable", f"shop:{theirs}"), headers=seller.headers
    )
    assert_problem(other_shop, 403, "not-your-account")
    platform = await client.get(
        statement_url("platform_revenue", "market:GB"), headers=seller.headers
    )
    assert_problem(platform, 403, "not-your-account")
    assert_problem(await client.get(statement_url("seller_payable", f"shop:{mine}")), 401)

    admin = await make_actor(Role.ADMIN)
    resp = await client.get(
        statement_url("seller_payable", f"shop:{theirs}"), headers=admin.headers
    )
    assert resp.json()["owed_to_party_minor"] == 2184


async def test_creator_reads_own_statement_and_windows(
    client: httpx.AsyncClient, session: AsyncSession, make_actor: MakeActor
) -> None:
    creator, someone = await make_actor(Role.CREATOR), await make_actor(Role.CREATOR)
    await sell(session, 1, creator.id, "order:1:paid")
    url = statement_url("creator_payable", f"creator:{creator.id}")
    body = (await client.get(url, headers=creator.headers)).json()
    assert body["owed_to_party_minor"] == 96 and len(body["lines"]) == 1
    assert_problem(await client.get(url, headers=someone.headers), 403, "not-your-account")

    later = statement_url("creator_payable", f"creator:{creator.id}", since="2999-01-01T00:00:00Z")
    body = (await client.get(later, headers=creator.headers)).json()
    assert (body["opening_balance_minor"], body["lines"], body["closing_balance_minor"]) == (
        -96,
        [],
        -96,
    )
    naive = statement_url("creator_payable", f"creator:{creator.id}", since="2026-01-01T00:00:00")
    assert_problem(await client.get(naive, headers=creator.headers), 422, "naive-datetime")
    backwards = statement_url(
        "creator_payable",
        f"creator:{creator.id}",
        since="2026-02-01T00:00:00Z",
        until="2026-01-01T00:00:00Z",
    )
    assert_problem(await client.get(backwards, headers=creator.headers), 422, "invalid-window")
    bad_currency = statement_url("creator_payable", f"creator:{creator.id}", currency="XYZ")
    assert_problem(await client.get(bad_currency, headers=creator.headers), 422, "invalid-account")


async def test_me_shows_what_you_are_owed(
    client: httpx.AsyncClient, session: AsyncSession, make_actor: MakeActor
) -> None:
    assert_problem(await client.get("/api/v1/ledger/me"), 401, "unauthenticated")
    buyer = await make_actor(Role.BUYER)
    assert (await client.get("/api/v1/ledger/me", headers=buyer.headers)).json() == []

    person = await make_actor(Role.SELLER, Role.CREATOR)
    shop = await make_shop(session, "both", person)
    await sell(session, shop, person.id, "order:1:paid")
    await sell(session, 99, person.id, "order:2:paid")  # someone else's shop, their creator share
    resp = await client.get("/api/v1/ledger/me", params={"locale": "en_GB"}, headers=person.headers)
    assert resp.status_code == 200
    assert resp.json() == [
        {
            "party": f"creator:{person.id}",
            "type": "creator_payable",
            "currency": "GBP",
            "owed_minor": 192,
            "display": "£1.92",
        },
        {
            "party": f"shop:{shop}",
            "type": "seller_payable",
            "currency": "GBP",
            "owed_minor": 2184,
            "display": "£21.84",
        },
    ]
