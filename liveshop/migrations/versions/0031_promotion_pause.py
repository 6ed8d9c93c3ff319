"""a campaign can be paused (and resumed) by an admin; a coupon can be deactivated by its shop

Revision ID: 0031
Revises: 0029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0031"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("subsidy_campaigns", sa.Column("paused_at", WHEN, nullable=True))
    op.add_column("coupons", sa.Column("deactivated_at", WHEN, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35 has it): a batch copy would drop and rebuild the
    # tables other tables' foreign keys point at.
    op.drop_column("coupons", "deactivated_at")
    op.drop_column("subsidy_campaigns", "paused_at")
