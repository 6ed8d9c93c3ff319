"""Stream keys, the video of a live session, and its shoppable replay timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime

KEY_HASH_LEN = 64  # SHA-256, hex
KEY_PREFIX_LEN = 10  # "lsk_" + 6 characters: enough to tell keys apart, useless to guess one


class StreamKey(Base):
    """A creator's secret RTMP stream key. Only its SHA-256 is stored.

    The full key exists once, in the answer to the rotation that made it; the prefix is
    what pages and logs show. At most one key per creator is active (not revoked).
    """

    __tablename__ = "video_stream_keys"
    __table_args__ = (
        Index(
            "ux_video_stream_keys_active",
            "creator_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(KEY_HASH_LEN), unique=True)
    prefix: Mapped[str] = mapped_column(String(KEY_PREFIX_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StreamState(StrEnum):
    RECEIVING = "receiving"  # an encoder is connected; HLS segments are being written
    RECONNECTING = "reconnecting"  # ingest stopped; the session ends after the grace period
    ENDED = "ended"  # the session is over; the replay playlist is final


class VideoStream(Base):
    """The video of one live session: where its HLS folder is and the stream's clock.

    ``folder`` is a random public name: nginx names HLS folders after the stream name,
    and on_publish renames the stream from the (secret) key to this.

    The clock turns wall time into replay time: video recorded by earlier publishes
    (``media_ms_before``) plus the time since the current publish began. Gaps while the
    encoder reconnects are not in the replay, so they are not in the offsets either.
    """

    __tablename__ = "video_streams"
    __table_args__ = (Index("ix_video_streams_state", "state"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The key the session went live with (a session is bound to it).
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("video_stream_keys.id", ondelete="SET NULL"), nullable=True
    )
    folder: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(12), default=StreamState.RECEIVING)
    # The media server's id of the connected publisher (nginx ``clientid``).
    client_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    video_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    publish_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    media_ms_before: Mapped[int] = mapped_column(BigInteger, default=0)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    replay_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TimelineKind(StrEnum):
    PIN = "pin"  # a product went on screen
    UNPIN = "unpin"  # the pinned product was taken down
    DEAL_STARTED = "deal_started"  # a flash deal began (no deal price kept: replays sell at list)
    DEAL_ENDED = "deal_ended"  # the flash deal ended (sold out, expired, ended early)
    PURCHASE_SPIKE = "purchase_spike"  # many units sold within a few seconds


class TimelineEntry(Base):
    """Something that happened on screen, at its offset into the replay (ms)."""

    __tablename__ = "video_timeline"
    __table_args__ = (Index("ix_video_timeline_session_offset", "session_id", "offset_ms"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    offset_ms: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimulcastDestination(Base):
    """Another platform's RTMP ingest a creator relays their stream to while live.

    The URL and stream key are stored only encrypted (``secret``: Fernet, keyed from the
    app's secret key — ``simulcast.py``) and never shown again: pages show the label and the
    server's host name.
    """

    __tablename__ = "video_simulcast_destinations"
    __table_args__ = (Index("ix_video_simulcast_creator", "creator_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(60))
    host: Mapped[str] = mapped_column(String(255))  # shown: where it goes, not how
    secret: Mapped[str] = mapped_column(String(2048))  # Fernet token of {"url", "key"}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The relay's status while the creator is live (None otherwise), written by the process
    # that runs it on each change, so that every process's studio shows the same.
    relay_state: Mapped[str | None] = mapped_column(String(12), nullable=True)
    relay_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    relay_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    relay_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Until when that status holds: the process renews it while the relay runs; past it, the
    # status is a dead process's (killed mid-relay) and is read as not relaying.
    relay_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
