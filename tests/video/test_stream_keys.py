"""Stream keys: shown once, stored hashed, rotated and revoked, and only ever your own."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.video import service
from liveshop.video.models import StreamKey
from tests.support import MakeActor, assert_problem
from tests.video.helpers import new_key

URL = "/api/v1/video/stream-key"


async def test_a_key_is_shown_once_and_stored_only_as_its_hash(
    client: httpx.AsyncClient, make_actor: MakeActor, session: Any
) -> None:
    creator = await make_actor(Role.CREATOR)
    before = (await client.get(URL, headers=creator.headers)).json()
    assert before["has_key"] is False and before["prefix"] is None

    resp = await client.post(f"{URL}/rotate", headers=creator.headers)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    key = resp.json()["stream_key"]
    assert key.startswith("lsk_") and len(key) >= 36
    assert resp.json()["prefix"] == key[:10]

    shown = await client.get(URL, headers=creator.headers)
    assert shown.json()["has_key"] is True and shown.json()["prefix"] == key[:10]
    assert key not in shown.text

    rows = (await session.scalars(select(StreamKey))).all()
    assert [r.key_hash for r in rows] == [hashlib.sha256(key.encode()).hexdigest()]
    assert all(key not in (r.key_hash, r.prefix) for r in rows)


async def test_rotation_replaces_the_key_and_revocation_ends_it(
    client: httpx.AsyncClient, make_actor: MakeActor, session: Any
) -> None:
    creator = await make_actor(Role.CREATOR)
    first = await new_key(client, creator)
    second = await new_key(client, creator)
    assert first != second
    await session.rollback()
    assert await service.key_by_secret(session, first) is None
    valid = await service.key_by_secret(session, second)
    assert valid is not None and valid.creator_id == creator.id
    revoked = await service.key_by_secret(session, first, include_revoked=True)
    assert revoked is not None and revoked.revoked_at is not None

    assert (await client.delete(URL, headers=creator.headers)).status_code == 204
    await session.rollback()
    assert await service.key_by_secret(session, second) is None
    assert (await client.get(URL, headers=creator.headers)).json()["has_key"] is False
    assert (await client.delete(URL, headers=creator.headers)).status_code == 204  # idempotent


async def test_keys_are_for_creators_and_each_sees_only_their_own(
    client: httpx.AsyncClient, make_actor: MakeActor, session: Any
) -> None:
    assert_problem(await client.get(URL), 401, "unauthenticated")
    assert_problem(await client.post(f"{URL}/rotate"), 401, "unauthenticated")
    for role in (Role.BUYER, Role.SELLER, Role.MODERATOR):
        other = await make_actor(role)
        for resp in (
            await client.get(URL, headers=other.headers),
            await client.post(f"{URL}/rotate", headers=other.headers),
            await client.delete(URL, headers=other.headers),
        ):
            assert_problem(resp, 403, "wrong-role")

    alice, bob = await make_actor(Role.CREATOR), await make_actor(Role.CREATOR)
    alice_key = await new_key(client, alice)
    assert (await client.get(URL, headers=bob.headers)).json()["has_key"] is False
    await new_key(client, bob)  # Bob's rotation and revocation leave Alice's key alone
    assert (await client.delete(URL, headers=bob.headers)).status_code == 204
    await session.rollback()
    still = await service.key_by_secret(session, alice_key)
    assert still is not None and still.creator_id == alice.id


async def test_concurrent_rotations_leave_exactly_one_working_key(
    client: httpx.AsyncClient, make_actor: MakeActor, session: Any
) -> None:
    creator = await make_actor(Role.CREATOR)
    answers = await asyncio.gather(
        *(client.post(f"{URL}/rotate", headers=creator.headers) for _ in range(6))
    )
    issued = [r.json()["stream_key"] for r in answers if r.status_code == 200]
    for r in answers:
        if r.status_code != 200:
            assert_problem(r, 409, "stream-key-rotation-conflict")
    assert issued
    await session.rollback()
    working = [k for k in issued if await service.key_by_secret(session, k) is not None]
    assert len(working) == 1
    active = (await session.scalars(select(StreamKey).where(StreamKey.revoked_at.is_(None)))).all()
    assert len(active) == 1
