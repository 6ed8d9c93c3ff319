"""giveaways, polls and Q&A in live rooms; markets' giveaway terms

Revision ID: 0032
Revises: 0031
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db


revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "giveaways",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("creator_id", sa.BigInteger(), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("eligibility", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("seed_sha256", sa.String(length=64), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.BigInteger(), nullable=True),
        sa.Column("winner_entry", sa.String(length=32), nullable=True),
        sa.Column("winner_id", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("opens_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("drawn_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("entry_count >= 0", name=op.f("ck_giveaways_entries_not_negative")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_giveaways_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_giveaways_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giveaways")),
    )
    op.create_index(
        "ix_giveaways_session_status", "giveaways", ["session_id", "status"], unique=False
    )

    op.create_table(
        "live_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_live_questions_votes_not_negative")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_questions_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_questions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_questions")),
    )
    op.create_index(
        "ix_live_questions_session_status", "live_questions", ["session_id", "status"], unique=False
    )

    op.create_table(
        "polls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("question", sa.String(length=200), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("votes_0", sa.Integer(), nullable=False),
        sa.Column("votes_1", sa.Integer(), nullable=False),
        sa.Column("votes_2", sa.Integer(), nullable=False),
        sa.Column("votes_3", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_polls_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    op.create_index("ix_polls_session", "polls", ["session_id", "closed_at"], unique=False)

    op.create_table(
        "giveaway_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "giveaway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["giveaway_id"],
            ["giveaways.id"],
            name=op.f("fk_giveaway_entries_giveaway_id_giveaways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_giveaway_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giveaway_entries")),
        sa.UniqueConstraint("giveaway_id", "public_id", name="uq_giveaway_entries_public"),
        sa.UniqueConstraint("giveaway_id", "user_id", name="uq_giveaway_entries_user"),
    )
    op.create_table(
        "live_question_votes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "question_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["live_questions.id"],
            name=op.f("fk_live_question_votes_question_id_live_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_question_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_question_votes")),
        sa.UniqueConstraint("question_id", "user_id", name="uq_question_votes_user"),
    )
    op.create_table(
        "poll_votes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("option >= 0 AND option < 4", name=op.f("ck_poll_votes_option_range")),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_votes_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_poll_votes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint("poll_id", "user_id", name="uq_poll_votes_user"),
    )
    op.add_column("markets", sa.Column("giveaway_terms", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN: a batch copy would rebuild the table others' foreign keys point at.
    op.drop_column("markets", "giveaway_terms")

    op.drop_table("poll_votes")
    op.drop_table("live_question_votes")
    op.drop_table("giveaway_entries")
    op.drop_index("ix_polls_session", table_name="polls")

    op.drop_table("polls")
    op.drop_index("ix_live_questions_session_status", table_name="live_questions")

    op.drop_table("live_questions")
    op.drop_index("ix_giveaways_session_status", table_name="giveaways")

    op.drop_table("giveaways")
