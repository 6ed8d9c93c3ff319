"""saved cards: a buyer's cards on file (tokens), and the sandbox provider's store of them

Revision ID: 0018
Revises: 0017

``saved_cards``: what liveshop keeps of a buyer's saved card — the provider's token, brand,
last four digits, expiry — and which one is the default (at most one per buyer: a partial
unique index). ``sandbox_payment_methods`` is the sandbox provider's own store of the cards
it was asked to save (it emulates an external provider, whose memory outlives a restart of
liveshop); the only table that holds a card number, and only the sandbox's test numbers.
Nothing to backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "saved_cards",
        sa.Column("id", ID, nullable=False),
        sa.Column("buyer_id", ID, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_token", sa.String(length=80), nullable=False),
        sa.Column("brand", sa.String(length=20), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "exp_month BETWEEN 1 AND 12", name=op.f("ck_saved_cards_exp_month_valid")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_saved_cards_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_cards")),
        sa.UniqueConstraint(
            "provider", "provider_token", name=op.f("uq_saved_cards_provider_provider_token")
        ),
    )
    op.create_index(op.f("ix_saved_cards_buyer_id"), "saved_cards", ["buyer_id"])
    op.create_index(
        "uq_saved_cards_one_default",
        "saved_cards",
        ["buyer_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "sandbox_payment_methods",
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("customer", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=19), nullable=False),
        sa.Column("brand", sa.String(length=20), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_sandbox_payment_methods")),
    )
    op.create_index(
        op.f("ix_sandbox_payment_methods_customer"), "sandbox_payment_methods", ["customer"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_payment_methods_customer"), table_name="sandbox_payment_methods")
    op.drop_table("sandbox_payment_methods")
    op.drop_index("uq_saved_cards_one_default", table_name="saved_cards")
    op.drop_index(op.f("ix_saved_cards_buyer_id"), table_name="saved_cards")
    op.drop_table("saved_cards")
