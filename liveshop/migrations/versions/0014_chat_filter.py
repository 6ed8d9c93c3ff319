"""chat: automatic comment filtering — blocked terms, "hold links", filter entries in the log

Revision ID: 0014
Revises: 0013

``chat_blocked_terms`` (a creator's own list), ``chat_platform_blocked_terms`` (the
platform's, for every market, one market or one language), ``chat_filter_settings`` (a
creator's "hold links") and ``chat_platform_filter_settings`` (the platform's, for every
market or one). The moderation log records what the filter held:
``chat_moderation_log.filter_rule`` and ``filter_match`` (no actor; ``actor_role`` is
"filter"). Nothing to backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = liveshop.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_blocked_terms",
        sa.Column("id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("term", sa.String(length=50), nullable=False),
        sa.Column("created_by", PK, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_chat_blocked_terms_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_chat_blocked_terms_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_blocked_terms")),
        sa.UniqueConstraint(
            "creator_id", "term", name=op.f("uq_chat_blocked_terms_creator_id_term")
        ),
    )
    op.create_table(
        "chat_platform_blocked_terms",
        sa.Column("id", PK, nullable=False),
        sa.Column("market_code", sa.String(length=2), server_default="", nullable=False),
        sa.Column("language", sa.String(length=8), server_default="", nullable=False),
        sa.Column("term", sa.String(length=50), nullable=False),
        sa.Column("created_by", PK, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_chat_platform_blocked_terms_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_platform_blocked_terms")),
        sa.UniqueConstraint(
            "market_code",
            "language",
            "term",
            name=op.f("uq_chat_platform_blocked_terms_market_code_language_term"),
        ),
    )
    op.create_table(
        "chat_filter_settings",
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("hold_links", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", PK, nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_chat_filter_settings_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_chat_filter_settings_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_chat_filter_settings")),
    )
    op.create_table(
        "chat_platform_filter_settings",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("hold_links", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", PK, nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_chat_platform_filter_settings_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("market_code", name=op.f("pk_chat_platform_filter_settings")),
    )
    with op.batch_alter_table("chat_moderation_log") as batch:
        batch.add_column(sa.Column("filter_rule", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("filter_match", sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_moderation_log") as batch:
        batch.drop_column("filter_match")
        batch.drop_column("filter_rule")
    op.drop_table("chat_platform_filter_settings")
    op.drop_table("chat_filter_settings")
    op.drop_table("chat_platform_blocked_terms")
    op.drop_table("chat_blocked_terms")
