"""a simulcast destination keeps its relay's status (state, attempts, last error, since), so
every app process shows what the one running the relay sees

Revision ID: 0036
Revises: 0037
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0036"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
TABLE = "video_simulcast_destinations"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("relay_state", sa.String(12), nullable=True))
    op.add_column(
        TABLE, sa.Column("relay_attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(TABLE, sa.Column("relay_error", sa.String(300), nullable=True))
    op.add_column(TABLE, sa.Column("relay_since", WHEN, nullable=True))


def downgrade() -> None:
    for column in ("relay_since", "relay_error", "relay_attempts", "relay_state"):
        op.drop_column(TABLE, column)
