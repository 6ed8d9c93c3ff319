"""live: a drop's per-product limit across a show's deals on one product

Revision ID: 0019
Revises: 0018

``flash_deals.per_product_limit`` (NULL: none): the units of the deal's product one buyer may
take across all of the show's deals on it. Existing deals have none; nothing to backfill.
SQLite: the CHECK goes in as a column constraint of ``ADD COLUMN`` (as in 0015).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_flash_deals_per_product_limit_positive"
CONDITION = "per_product_limit IS NULL OR per_product_limit >= 1"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE flash_deals ADD COLUMN per_product_limit INTEGER "
            f"CONSTRAINT {CHECK} CHECK ({CONDITION})"
        )
    else:
        op.add_column("flash_deals", sa.Column("per_product_limit", sa.Integer(), nullable=True))
        op.create_check_constraint(CHECK, "flash_deals", CONDITION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE flash_deals DROP COLUMN per_product_limit")
    else:
        op.drop_constraint(CHECK, "flash_deals", type_="check")
        op.drop_column("flash_deals", "per_product_limit")
