"""live: a flash deal's per-buyer limit and each buyer's units of a limited deal

Revision ID: 0015
Revises: 0014

``flash_deals.per_buyer_limit`` (NULL: no limit; else 1..units, fixed when the deal starts)
and ``flash_deal_buyers`` (one row per deal and buyer: the units that buyer holds or bought;
the guarded UPDATE that raises it is how the limit is kept under concurrency). Existing deals
have no limit; nothing to backfill.

SQLite: the CHECK goes in as a column constraint of ``ADD COLUMN`` (as in 0009 and 0012).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHECK = "ck_flash_deals_per_buyer_limit_within_units"
CONDITION = "per_buyer_limit IS NULL OR (per_buyer_limit >= 1 AND per_buyer_limit <= units)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE flash_deals ADD COLUMN per_buyer_limit INTEGER "
            f"CONSTRAINT {CHECK} CHECK ({CONDITION})"
        )
    else:
        op.add_column("flash_deals", sa.Column("per_buyer_limit", sa.Integer(), nullable=True))
        op.create_check_constraint(CHECK, "flash_deals", CONDITION)
    op.create_table(
        "flash_deal_buyers",
        sa.Column("deal_id", PK, nullable=False),
        sa.Column("buyer_id", PK, nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("units >= 0", name=op.f("ck_flash_deal_buyers_units_not_negative")),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["flash_deals.id"],
            name=op.f("fk_flash_deal_buyers_deal_id_flash_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_flash_deal_buyers_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deal_id", "buyer_id", name=op.f("pk_flash_deal_buyers")),
    )


def downgrade() -> None:
    op.drop_table("flash_deal_buyers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE flash_deals DROP COLUMN per_buyer_limit")
    else:
        op.drop_constraint(CHECK, "flash_deals", type_="check")
        op.drop_column("flash_deals", "per_buyer_limit")
