"""Stream keys: issue (rotate), revoke, look up — and the video row of a session.

A key is 192 random bits, so a plain SHA-256 is the right hash (nothing to brute-force;
lookups stay one indexed equality). The full key is returned once, by ``rotate_key``, to
its owner; everything else — pages, logs, the API — only ever sees its prefix.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop import audit
from liveshop.audit import Action
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.video.models import KEY_PREFIX_LEN, StreamKey, VideoStream

KEY_PREFIX = "lsk_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def key_prefix(key: str) -> str:
    return key[:KEY_PREFIX_LEN]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: ``key`` is the secret, shown to its owner this once."""

    key: str
    row: StreamKey


async def active_key(session: AsyncSession, creator_id: int) -> StreamKey | None:
    row: StreamKey | None = await session.scalar(
        select(StreamKey).where(StreamKey.creator_id == creator_id, StreamKey.revoked_at.is_(None))
    )
    return row


async def _revoke_active(session: AsyncSession, creator_id: int) -> int:
    result = await session.execute(
        update(StreamKey)
        .where(StreamKey.creator_id == creator_id, StreamKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def rotate_key(session: AsyncSession, creator_id: int) -> IssuedKey:
    """Revoke the creator's key (if any) and issue a new one; one transaction, commits (the
    audit log records who and the keys' public prefixes, never a key).

    The partial unique index (one active key per creator) settles two concurrent
    rotations: the loser gets 409 and nothing changes for it.
    """
    old = await active_key(session, creator_id)
    await _revoke_active(session, creator_id)
    key = new_key()
    row = StreamKey(creator_id=creator_id, key_hash=hash_key(key), prefix=key_prefix(key))
    session.add(row)
    audit.record(
        session,
        actor_id=creator_id,
        action=Action.STREAM_KEY_ROTATED,
        target_type="creator",
        target_id=creator_id,
        before={"prefix": old.prefix} if old is not None else None,
        after={"prefix": row.prefix},
    )
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(
            _("another key rotation happened at the same moment; try again"),
            code="stream-key-rotation-conflict",
        ) from exc
    return IssuedKey(key, row)


async def revoke_key(session: AsyncSession, creator_id: int) -> StreamKey | None:
    """Revoke the active key; returns it (None if there was none). Commits."""
    row = await active_key(session, creator_id)
    if row is None:
        await session.rollback()
        return None
    await _revoke_active(session, creator_id)
    audit.record(
        session,
        actor_id=creator_id,
        action=Action.STREAM_KEY_REVOKED,
        target_type="creator",
        target_id=creator_id,
        before={"prefix": row.prefix},
    )
    await session.commit()
    await session.refresh(row)
    return row


async def key_by_secret(
    session: AsyncSession, key: str, *, include_revoked: bool = False
) -> StreamKey | None:
    """The key row for a secret an encoder sent (active only unless ``include_revoked``)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    query = select(StreamKey).where(StreamKey.key_hash == hash_key(key))
    if not include_revoked:
        query = query.where(StreamKey.revoked_at.is_(None))
    row: StreamKey | None = await session.scalar(query)
    return row


async def get_stream(session: AsyncSession, session_id: int) -> VideoStream | None:
    return await session.get(VideoStream, session_id)
