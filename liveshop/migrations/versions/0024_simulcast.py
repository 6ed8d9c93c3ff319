"""simulcast: creators' other-platform RTMP destinations (URL and key stored encrypted)

Revision ID: 0024
Revises: 0027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0024"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "video_simulcast_destinations",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("secret", sa.String(length=2048), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_video_simulcast_creator", "video_simulcast_destinations", ["creator_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_video_simulcast_creator", table_name="video_simulcast_destinations")
    op.drop_table("video_simulcast_destinations")
