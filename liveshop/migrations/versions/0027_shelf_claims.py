"""shelf claims: a tap on a product shown in a live room holds units for the buyer

Revision ID: 0027
Revises: 0023

``shelf_claims``: a buyer's claim on a SKU of a product pinned or shown in a live session (no
flash deal), holding its units through a plain reservation until checked out or expired.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0027"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shelf_claims",
        sa.Column("id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=False),
        sa.Column("sku_id", PK, nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("buyer_id", PK, nullable=False),
        sa.Column("reservation_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expires_at", liveshop.core.db.UTCDateTime(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shelf_claims_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_shelf_claims_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_shelf_claims_sku_id_skus")),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_shelf_claims_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelf_claims")),
    )
    op.create_index(
        "ix_shelf_claims_buyer_session", "shelf_claims", ["buyer_id", "session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_shelf_claims_buyer_session", table_name="shelf_claims")
    op.drop_table("shelf_claims")
