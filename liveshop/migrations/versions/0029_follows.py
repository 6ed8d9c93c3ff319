"""follows (a viewer follows a creator or a shop) and show reminders ("remind me")

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = liveshop.core.db.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", PK, nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=True),
        sa.Column("shop_id", PK, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "(creator_id IS NULL) <> (shop_id IS NULL)", name=op.f("ck_follows_creator_or_shop")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_follows_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_follows_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "creator_id", name="uq_follows_user_creator"),
        sa.UniqueConstraint("user_id", "shop_id", name="uq_follows_user_shop"),
    )
    op.create_index("ix_follows_creator", "follows", ["creator_id"])
    op.create_index("ix_follows_shop", "follows", ["shop_id"])
    op.create_table(
        "show_reminders",
        sa.Column("id", PK, nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_show_reminders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_show_reminders_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_show_reminders")),
        sa.UniqueConstraint("user_id", "session_id", name="uq_show_reminders_user_session"),
    )
    op.create_index("ix_show_reminders_session", "show_reminders", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_show_reminders_session", table_name="show_reminders")
    op.drop_table("show_reminders")
    op.drop_index("ix_follows_shop", table_name="follows")
    op.drop_index("ix_follows_creator", table_name="follows")
    op.drop_table("follows")
