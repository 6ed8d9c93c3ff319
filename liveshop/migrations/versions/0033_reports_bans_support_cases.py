"""chat reports and bans (a mute with ``ban`` set); support cases opened from complaints in
a live room's chat, with their messages

Revision ID: 0033
Revises: 0032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = liveshop.core.db.UTCDateTime()


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.add_column(
        "chat_mutes", sa.Column("ban", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "chat_reports",
        sa.Column("id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("reporter_id", PK, nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("target_user_id", PK, nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("handled_by", PK, nullable=True),
        sa.Column("handled_at", WHEN, nullable=True),
        _fk("chat_reports", "session_id", "live_sessions", "CASCADE"),
        _fk("chat_reports", "creator_id", "users", "CASCADE"),
        _fk("chat_reports", "reporter_id", "users", "CASCADE"),
        _fk("chat_reports", "target_user_id", "users", "CASCADE"),
        _fk("chat_reports", "handled_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_reports")),
        sa.UniqueConstraint("reporter_id", "comment_id", name="uq_chat_reports_reporter_comment"),
    )
    op.create_index(
        "ix_chat_reports_session_status", "chat_reports", ["session_id", "status", "id"]
    )
    op.create_index(
        "ix_chat_reports_creator_status", "chat_reports", ["creator_id", "status", "id"]
    )
    op.create_table(
        "support_cases",
        sa.Column("id", PK, nullable=False),
        sa.Column("shop_id", PK, nullable=False),
        sa.Column("buyer_id", PK, nullable=False),
        sa.Column("order_id", PK, nullable=True),
        sa.Column("session_id", PK, nullable=True),
        sa.Column("creator_id", PK, nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("first_reply_at", WHEN, nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by", PK, nullable=True),
        _fk("support_cases", "shop_id", "shops", "CASCADE"),
        _fk("support_cases", "buyer_id", "users", "CASCADE"),
        _fk("support_cases", "order_id", "orders", "SET NULL"),
        _fk("support_cases", "session_id", "live_sessions", "SET NULL"),
        _fk("support_cases", "creator_id", "users", "SET NULL"),
        _fk("support_cases", "resolved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_cases")),
    )
    op.create_index("ix_support_cases_shop_status", "support_cases", ["shop_id", "status", "id"])
    op.create_index("ix_support_cases_buyer", "support_cases", ["buyer_id", "shop_id", "status"])
    op.create_index("ix_support_cases_session", "support_cases", ["session_id"])
    op.create_table(
        "support_messages",
        sa.Column("id", PK, nullable=False),
        sa.Column("case_id", PK, nullable=False),
        sa.Column("author_id", PK, nullable=True),
        sa.Column("from_shop", sa.Boolean(), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("support_messages", "case_id", "support_cases", "CASCADE"),
        _fk("support_messages", "author_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_messages")),
    )
    op.create_index("ix_support_messages_case", "support_messages", ["case_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_support_messages_case", table_name="support_messages")
    op.drop_table("support_messages")
    op.drop_index("ix_support_cases_session", table_name="support_cases")
    op.drop_index("ix_support_cases_buyer", table_name="support_cases")
    op.drop_index("ix_support_cases_shop_status", table_name="support_cases")
    op.drop_table("support_cases")
    op.drop_index("ix_chat_reports_creator_status", table_name="chat_reports")
    op.drop_index("ix_chat_reports_session_status", table_name="chat_reports")
    op.drop_table("chat_reports")
    op.drop_column("chat_mutes", "ban")
