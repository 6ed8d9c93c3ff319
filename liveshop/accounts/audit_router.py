"""``GET /api/v1/admin/audit-log``: the audit log of privileged actions (liveshop/audit),
for admins only. Here rather than in ``audit``: the log sits below accounts (every domain
writes it, accounts included), and who may read it is accounts' to say."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from liveshop import audit
from liveshop.accounts.deps import AdminPrincipal, SessionDep
from liveshop.accounts.service import display_names
from liveshop.audit.schemas import AuditEntryOut, AuditPageOut
from liveshop.core.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1/admin", tags=["audit"], responses=PROBLEM_RESPONSES)

MAX_ID = 2**63 - 1


@router.get("/audit-log")
async def audit_log(
    _: AdminPrincipal,
    session: SessionDep,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=r"^[a-z_]+(\.[a-z_]*)?$",
            description="exact (`user.roles`) or, ending in a dot, every action of a kind"
            " (`market.`)",
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="from this moment (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="before this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPageOut:
    """Who did what to what and when, newest first, with the values before and after."""
    page = await audit.search(
        session,
        actor_id=actor_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    names = await display_names(session, (e.actor_id for e in page.items if e.actor_id))
    return AuditPageOut(
        items=[AuditEntryOut.of(e, names) for e in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )
