"""live: drops — fairness policies, claims, queue places and lottery entries

Revision ID: 0017
Revises: 0016

``flash_deals`` gains its fairness ``policy`` (hold then pay for existing deals: what they
did), the claim ``hold_seconds``, the lottery's draw time and committed seed, a
``stock_version`` raised by each claim batch and ``served_through`` (the queue's progress).
``deal_claims``: the units a buyer's tap claimed (a HELD child of the deal's hold).
``deal_entries``: places in a queue drop's line and entries of a lottery drop.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = liveshop.core.db.UTCDateTime(timezone=True)

NEW_DEAL_COLUMNS = (
    ("policy", sa.String(length=16), "hold_then_pay"),
    ("hold_seconds", sa.Integer(), "300"),
    ("draw_at", WHEN, None),
    ("drawn_at", WHEN, None),
    ("lottery_seed", sa.String(length=64), None),
    ("lottery_seed_sha256", sa.String(length=64), None),
    ("stock_version", sa.BigInteger(), "0"),
    ("served_through", sa.Integer(), "0"),
)


def upgrade() -> None:
    for name, type_, default in NEW_DEAL_COLUMNS:
        op.add_column(
            "flash_deals",
            sa.Column(
                name,
                type_,
                nullable=default is None,
                server_default=sa.text(f"'{default}'") if default is not None else None,
            ),
        )
    op.create_table(
        "deal_claims",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("deal_id", PK, nullable=False),
        sa.Column("buyer_id", PK, nullable=False),
        sa.Column("reservation_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_deal_claims_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["flash_deals.id"],
            name=op.f("fk_deal_claims_deal_id_flash_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_deal_claims_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_claims")),
    )
    op.create_index("ix_deal_claims_deal_buyer", "deal_claims", ["deal_id", "buyer_id"])
    op.create_index("ix_deal_claims_status_expires", "deal_claims", ["status", "expires_at"])
    op.create_table(
        "deal_entries",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("deal_id", PK, nullable=False),
        sa.Column("buyer_id", PK, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_deal_entries_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["flash_deals.id"],
            name=op.f("fk_deal_entries_deal_id_flash_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_deal_entries_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_entries")),
        sa.UniqueConstraint("deal_id", "seq", name="uq_deal_entries_deal_seq"),
        sa.UniqueConstraint("deal_id", "buyer_id", name="uq_deal_entries_deal_buyer"),
    )
    op.create_index(
        "ix_deal_entries_deal_status_rank", "deal_entries", ["deal_id", "status", "rank"]
    )


def downgrade() -> None:
    op.drop_table("deal_entries")
    op.drop_table("deal_claims")
    for name, _type, _default in reversed(NEW_DEAL_COLUMNS):
        op.execute(f"ALTER TABLE flash_deals DROP COLUMN {name}")
