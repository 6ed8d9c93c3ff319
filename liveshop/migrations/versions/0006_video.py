"""video: stream keys, session video streams, replay timeline

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "video_stream_keys",
        sa.Column("id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_video_stream_keys_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_stream_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_video_stream_keys_key_hash")),
    )
    op.create_index(
        "ux_video_stream_keys_active",
        "video_stream_keys",
        ["creator_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "video_streams",
        sa.Column("session_id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("key_id", PK, nullable=True),
        sa.Column("folder", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=True),
        sa.Column("video_started_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "publish_started_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("media_ms_before", sa.BigInteger(), nullable=False),
        sa.Column("stopped_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("replay_ready", sa.Boolean(), nullable=False),
        sa.Column("updated_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_video_streams_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["video_stream_keys.id"],
            name=op.f("fk_video_streams_key_id_video_stream_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_video_streams_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_video_streams")),
        sa.UniqueConstraint("folder", name=op.f("uq_video_streams_folder")),
    )
    op.create_index("ix_video_streams_state", "video_streams", ["state"], unique=False)
    op.create_table(
        "video_timeline",
        sa.Column("id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=False),
        sa.Column("offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_video_timeline_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_timeline")),
    )
    op.create_index(
        "ix_video_timeline_session_offset",
        "video_timeline",
        ["session_id", "offset_ms"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_video_timeline_session_offset", table_name="video_timeline")
    op.drop_table("video_timeline")
    op.drop_index("ix_video_streams_state", table_name="video_streams")
    op.drop_table("video_streams")
    op.drop_index("ux_video_stream_keys_active", table_name="video_stream_keys")
    op.drop_table("video_stream_keys")
