"""chat: mutes in a creator's rooms, moderation log

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_mutes",
        sa.Column("id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("muted_by", PK, nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", PK, nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_chat_mutes_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_mutes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_chat_mutes_session_id_live_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["muted_by"],
            ["users.id"],
            name=op.f("fk_chat_mutes_muted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by"],
            ["users.id"],
            name=op.f("fk_chat_mutes_lifted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_mutes")),
    )
    op.create_index("ix_chat_mutes_creator_user", "chat_mutes", ["creator_id", "user_id"])
    op.create_table(
        "chat_moderation_log",
        sa.Column("id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=False),
        sa.Column("actor_id", PK, nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("target_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_chat_moderation_log_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_chat_moderation_log_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_moderation_log")),
    )
    op.create_index("ix_chat_moderation_log_session", "chat_moderation_log", ["session_id", "id"])
    op.create_index("ix_chat_moderation_log_comment", "chat_moderation_log", ["comment_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_moderation_log_comment", table_name="chat_moderation_log")
    op.drop_index("ix_chat_moderation_log_session", table_name="chat_moderation_log")
    op.drop_table("chat_moderation_log")
    op.drop_index("ix_chat_mutes_creator_user", table_name="chat_mutes")
    op.drop_table("chat_mutes")
