"""Agency invitations and plan revisions as services, on both databases: an answer is given
once (accept racing decline has one winner), accepting adds the member and a contract version
from now on in one transaction, bad input changes nothing; a revised plan ends the old one now
and orders keep the rate they were bought at."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.affiliates import agencies, contracts, invitations, plans, rates
from liveshop.affiliates.models import InvitationStatus, PlanKind
from liveshop.catalog.products import get_product
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict, NotFound, Problem, Unprocessable
from liveshop.notices.models import Notice
from tests.shopfront import new_user
from tests.support import MakeActor
from tests.web.test_pages import make_product


async def _agency(db: Database, name: str = "Glow MCN") -> tuple[int, int]:
    async with db.session() as s:
        owner = await new_user(s, f"{name.split()[0].lower()}-owner@example.com", Role.AGENCY)
        agency = await agencies.create_agency(s, name=name, owner_id=owner)
        return agency.id, owner


async def test_accepting_adds_member_and_contract_from_now(db: Database) -> None:
    agency_id, _owner = await _agency(db)
    async with db.session() as s:
        creator = await new_user(s, "mia@example.com", Role.CREATOR)
        await contracts.create_contract(
            s, creator_id=creator, currency="GBP", base_fee_minor=150_000, min_live_minutes=60
        )
        agency = await agencies.get_agency(s, agency_id)
        sent = await invitations.invite(
            s, agency, email="MIA@example.com ", agency_share_bp=2000, currency="gbp"
        )
        assert sent.status == InvitationStatus.PENDING
        before = utcnow()
        done = await invitations.accept(s, sent, creator_id=creator)
        assert done.status == InvitationStatus.ACCEPTED and done.contract_id is not None
        assert await agencies.agency_of(s, creator) == agency_id
        history = await contracts.contract_history(s, creator)
        assert [v.version for v in history] == [1, 2]
        v2 = history[-1]
        assert (v2.agency_id, v2.agency_share_bp, v2.base_fee_minor, v2.min_live_minutes) == (
            agency_id,
            2000,
            150_000,
            60,
        )
        assert v2.effective_from >= before - timedelta(seconds=1)
        then = await contracts.contract_at(
            s, creator, v2.effective_from - timedelta(microseconds=1)
        )
        assert then is not None and then.version == 1  # the past keeps its terms
        kinds = set((await s.scalars(select(Notice.kind))).all())
        assert {"agency.invitation", "agency.invitation_accepted"} <= kinds
        with pytest.raises(Conflict) as again:
            await invitations.decline(s, sent, creator_id=creator)
        assert again.value.code == "invitation-answered"
        with pytest.raises(Conflict) as member:
            await invitations.invite(s, agency, email="mia@example.com", agency_share_bp=1000,
                                     currency="GBP")  # fmt: skip
        assert member.value.code == "already-member"


async def test_bad_invitations_change_nothing(db: Database) -> None:
    agency_id, _owner = await _agency(db)
    other_id, _ = await _agency(db, "Other Talent")
    async with db.session() as s:
        creator = await new_user(s, "jake@example.com", Role.CREATOR)
        await new_user(s, "buyer@example.com", Role.BUYER)
        agency = await agencies.get_agency(s, agency_id)
        cases = [
            ({"email": "nobody@example.com"}, "unknown-creator"),
            ({"email": "buyer@example.com"}, "unknown-creator"),
            ({"agency_share_bp": 10_001}, "bad-rate"),
            ({"agency_share_bp": -1}, "bad-rate"),
            ({"currency": "XXQ"}, "unknown-currency"),
            ({"message": "x" * 501}, "bad-message"),
        ]
        for change, code in cases:
            args = {"email": "jake@example.com", "agency_share_bp": 2000, "currency": "GBP"}
            with pytest.raises(Problem) as failed:
                await invitations.invite(s, agency, **{**args, **change})  # type: ignore[arg-type]
            assert failed.value.code == code, change
        assert await invitations.for_creator(s, creator) == []
        first = await invitations.invite(
            s, agency, email="jake@example.com", agency_share_bp=2000, currency="GBP"
        )
        with pytest.raises(Conflict):
            await invitations.invite(
                s, agency, email="jake@example.com", agency_share_bp=2500, currency="GBP"
            )
        with pytest.raises(NotFound):  # only the invited creator answers
            await invitations.accept(s, first, creator_id=creator + 999)
        other = await agencies.get_agency(s, other_id)
        rival = await invitations.invite(
            s, other, email="jake@example.com", agency_share_bp=1000, currency="GBP"
        )
        rival_id = rival.id
        await invitations.accept(s, first, creator_id=creator)
        with pytest.raises(Conflict) as taken:  # one agency per creator; nothing half-done
            await invitations.accept(s, rival, creator_id=creator)
        assert taken.value.code == "creator-has-agency"
        rival = await invitations.get_invitation(s, rival_id)
        assert rival.status == InvitationStatus.PENDING
        with pytest.raises(Problem):
            await invitations.withdraw(s, rival, agency=agency)
        assert (await invitations.withdraw(s, rival, agency=other)).status == "withdrawn"


async def test_a_scheduled_change_blocks_accepting_until_it_applies(db: Database) -> None:
    agency_id, _ = await _agency(db)
    async with db.session() as s:
        creator = await new_user(s, "putri@example.com", Role.CREATOR)
        await contracts.create_contract(
            s, creator_id=creator, currency="GBP", effective_from=utcnow() + timedelta(days=7)
        )
        agency = await agencies.get_agency(s, agency_id)
        sent = await invitations.invite(
            s, agency, email="putri@example.com", agency_share_bp=2000, currency="GBP"
        )
        with pytest.raises(Conflict) as blocked:
            await invitations.accept(s, sent, creator_id=creator)
        assert blocked.value.code == "contract-change-scheduled"
        assert (await invitations.get_invitation(s, sent.id)).status == "pending"
        assert await agencies.agency_of(s, creator) is None


async def test_accept_racing_decline_has_one_winner(db: Database) -> None:
    agency_id, _ = await _agency(db)
    async with db.session() as s:
        creator = await new_user(s, "linh@example.com", Role.CREATOR)
        agency = await agencies.get_agency(s, agency_id)
        sent_id = (
            await invitations.invite(
                s, agency, email="linh@example.com", agency_share_bp=2000, currency="GBP"
            )
        ).id

    async def answer(how: str) -> str:
        async with db.session() as s:
            found = await invitations.get_invitation(s, sent_id)
            try:
                await getattr(invitations, how)(s, found, creator_id=creator)
            except Conflict:
                return "lost"
            return how

    results = await asyncio.gather(answer("accept"), answer("decline"))
    assert sorted(results).count("lost") == 1
    async with db.session() as s:
        final = await invitations.get_invitation(s, sent_id)
        member = await agencies.agency_of(s, creator)
        assert (final.status == "accepted") == (member == agency_id)


async def test_a_revised_plan_applies_from_now(db: Database, make_actor: MakeActor) -> None:
    seller = await make_actor(Role.SELLER)
    product_id, _sku = await make_product(db, seller, "revmugs")
    async with db.session() as s:
        creator = await new_user(s, "sophie@example.com", Role.CREATOR)
        shop_id = (await get_product(s, product_id)).shop_id
        plan = await plans.create_plan(
            s,
            shop_id=shop_id,
            kind=PlanKind.TARGETED,
            items=[plans.PlanItemSpec(rate_bp=1500, product_id=product_id)],
            creator_ids=[creator],
        )
        before = utcnow()
        with pytest.raises(Unprocessable):  # bad terms: the old plan is untouched
            await plans.revise_plan(
                s, plan, items=[plans.PlanItemSpec(rate_bp=20_000, product_id=product_id)],
                creator_ids=[creator],
            )  # fmt: skip
        assert (await plans.get_plan(s, plan.id)).valid_until is None
        new = await plans.revise_plan(
            s,
            plan,
            items=[plans.PlanItemSpec(rate_bp=800, product_id=product_id)],
            creator_ids=[creator],
        )
        old = await plans.get_plan(s, plan.id)
        assert old.valid_until is not None and old.valid_until >= before
        assert new.kind == "targeted" and new.valid_from == old.valid_until
        rate = await rates.applicable_rate(
            s, creator_id=creator, product_id=product_id, category="home", shop_id=shop_id,
            at=before - timedelta(microseconds=1),
        )  # fmt: skip
        assert rate == 1500  # what was bought before the change keeps its rate
        now_rate = await rates.applicable_rate(
            s, creator_id=creator, product_id=product_id, category="home", shop_id=shop_id,
            at=utcnow(),
        )  # fmt: skip
        assert now_rate == 800
        assert [p.id for p in await plans.plans_open_to(s, creator)] == [new.id]
        with pytest.raises(Conflict):
            await plans.revise_plan(
                s, old, items=[plans.PlanItemSpec(rate_bp=900, product_id=product_id)],
                creator_ids=[creator],
            )  # fmt: skip
