"""Support cases over HTTP: a shop's inbox (``GET /api/v1/shops/{shop_id}/support/cases``),
one case (``GET /api/v1/support/cases/{id}``: its buyer, the shop's staff, admins), the
shop's reply and resolution (``POST …/replies``, ``POST …/resolve``: the shop's staff).
Cases are opened by the live rooms (``helpdesk.wiring``), not over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import CurrentPrincipal, SellerPrincipal, SessionDep
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id, Text
from liveshop.helpdesk import service
from liveshop.helpdesk.classify import Category
from liveshop.helpdesk.models import MESSAGE_MAX, CaseStatus

router = APIRouter(prefix="/api/v1", tags=["support"], responses=PROBLEM_RESPONSES)


class CaseOut(BaseModel):
    id: int
    shop_id: int
    buyer_id: int
    buyer_name: str
    order_id: int | None = Field(description="The buyer's order the complaint concerns")
    session_id: int | None = Field(description="The live show it was raised in")
    category: Category
    status: CaseStatus
    created_at: datetime
    due_at: datetime = Field(description="The SLA's deadline for the shop's first answer")
    sla: str = Field(description="met, due or overdue")
    sla_seconds: int = Field(description="Left before the deadline (due) or past it (overdue)")
    first_reply_at: datetime | None
    resolved_at: datetime | None
    first_line: str
    routed_by: str | None = Field(
        default=None,
        description="How the case found this shop: order (the buyer's order from it), or no "
        "order matched — pinned (the product on screen), owner (the host's shop), showcase",
    )

    @classmethod
    def of(cls, c: service.CaseRow) -> CaseOut:
        state, seconds = c.sla(utcnow())
        return cls(
            id=c.id,
            shop_id=c.shop_id,
            buyer_id=c.buyer_id,
            buyer_name=c.buyer_name,
            order_id=c.order_id,
            session_id=c.session_id,
            category=c.category,
            status=c.status,
            created_at=c.created_at,
            due_at=c.due_at,
            sla=state,
            sla_seconds=seconds,
            first_reply_at=c.first_reply_at,
            resolved_at=c.resolved_at,
            first_line=c.first_line,
            routed_by=c.routed_by,
        )


class MessageOut(BaseModel):
    id: int
    from_shop: bool
    author_name: str
    body: str
    created_at: datetime


class CaseDetailOut(CaseOut):
    shop_name: str
    messages: list[MessageOut]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    body: Text = Field(min_length=1, max_length=MESSAGE_MAX)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    body: Text = Field(default="", max_length=MESSAGE_MAX, description="A last word (optional)")


@router.get("/shops/{shop_id}/support/cases")
async def shop_cases(
    shop_id: Id,
    principal: SellerPrincipal,
    session: SessionDep,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = CaseStatus.OPEN,
) -> list[CaseOut]:
    """The shop's support inbox (open cases oldest first): its staff and admins."""
    await ensure_shop_staff(session, principal, shop_id)
    return [CaseOut.of(c) for c in await service.inbox(session, shop_id, status=status_)]


async def _detail(session: SessionDep, case_id: int) -> CaseDetailOut:
    case = await service.get_case(session, case_id)
    d = await service.detail(session, case)
    return CaseDetailOut(
        **CaseOut.of(d.case).model_dump(),
        shop_name=d.shop_name,
        messages=[
            MessageOut(
                id=m.id,
                from_shop=m.from_shop,
                author_name=m.author_name,
                body=m.body,
                created_at=m.created_at,
            )
            for m in d.messages
        ],
    )


@router.get("/support/cases/{case_id}")
async def get_case(case_id: Id, principal: CurrentPrincipal, session: SessionDep) -> CaseDetailOut:
    """One case with its messages: its buyer, the shop's staff and admins."""
    await service.readable_case(session, principal, case_id)
    return await _detail(session, case_id)


@router.post("/support/cases/{case_id}/replies", status_code=status.HTTP_201_CREATED)
async def reply_to_case(
    case_id: Id, body: MessageIn, principal: SellerPrincipal, session: SessionDep
) -> CaseDetailOut:
    """The shop answers; the buyer is notified (409 ``case-resolved``)."""
    await service.reply(session, principal, case_id, body.body)
    return await _detail(session, case_id)


@router.post("/support/cases/{case_id}/resolve")
async def resolve_case(
    case_id: Id, body: ResolveIn, principal: SellerPrincipal, session: SessionDep
) -> CaseDetailOut:
    """The shop resolves the case; the buyer is notified (inbox and e-mail outbox)."""
    await service.resolve(session, principal, case_id, body.body)
    return await _detail(session, case_id)
