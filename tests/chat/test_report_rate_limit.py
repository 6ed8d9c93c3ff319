"""Chat reports (a line, a viewer, the show) are rate-limited per reporter (core/ratelimit.py,
``rate_limit_report``): past it the reporter gets 429 problem+json with Retry-After, no report
is filed, and another reporter is unaffected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.chat.models import ChatReport
from liveshop.core.db import Database
from liveshop.live import activity
from tests.live.helpers import new_session
from tests.support import MakeActor, app_client, assert_problem


@pytest.fixture
async def limited(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose report limit is small enough to reach in a test: 2 per 10 minutes."""
    async with app_client(db, broker_url="memory://", rate_limit_report="2/600") as c:
        yield c


async def _reports(db: Database, reporter_id: int) -> int:
    async with db.session(deferred=True) as s:
        found = await s.scalar(select(func.count()).where(ChatReport.reporter_id == reporter_id))
        return int(found or 0)


async def test_reports_past_the_limit_get_429_and_file_nothing(
    limited: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    creator, troll = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    sid = int((await new_session(limited, creator, [], start=True))["id"])
    async with db.session() as s:
        lines = [
            await activity.post_comment(s, session_id=sid, user_id=troll.id, text=f"spam {n}")
            for n in range(3)
        ]
    url = f"/api/v1/live/sessions/{sid}/reports"
    ann, bob = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    for body in ({"comment_id": lines[0], "reason": "spam"}, {"show": True, "reason": "spam"}):
        made = await limited.post(url, json=body, headers=ann.headers)
        assert made.status_code == 201, made.text
    for body in (
        {"comment_id": lines[1], "reason": "spam"},
        {"user_id": troll.id, "reason": "abuse"},
    ):
        refused = await limited.post(url, json=body, headers=ann.headers)
        problem = assert_problem(refused, 429, "rate-limited")
        retry = int(refused.headers["Retry-After"])
        assert 1 <= retry <= 600 and problem["retry_after_s"] == retry and problem["detail"]
    assert await _reports(db, ann.id) == 2  # the refused reports were never filed
    # The limit is the reporter's own: another viewer still reports the same line.
    other = await limited.post(
        url, json={"comment_id": lines[1], "reason": "spam"}, headers=bob.headers
    )
    assert other.status_code == 201 and other.json()["new"] is True
