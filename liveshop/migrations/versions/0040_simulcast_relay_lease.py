"""a simulcast relay's status holds until a lease its process renews, so that the status of a
relay whose process died (kill -9) is read as stopped instead of "running" forever

Revision ID: 0040
Revises: 0036
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0040"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "video_simulcast_destinations"


def upgrade() -> None:
    op.add_column(
        TABLE,
        sa.Column("relay_lease_until", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column(TABLE, "relay_lease_until")
