"""dispatch settings per market (dispatch deadline and auto-cancel grace, in working days);
the return parcel tracked like an outbound one (its carrier, status and tracking events)

Revision ID: 0023
Revises: 0022

Existing markets get the defaults the code had as constants (2 and 3 working days).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "markets", sa.Column("dispatch_days", sa.Integer(), server_default="2", nullable=False)
    )
    op.add_column(
        "markets", sa.Column("auto_cancel_days", sa.Integer(), server_default="3", nullable=False)
    )
    op.add_column("return_requests", sa.Column("carrier", sa.String(length=20), nullable=True))
    op.add_column(
        "return_requests", sa.Column("parcel_status", sa.String(length=20), nullable=True)
    )
    op.add_column("return_requests", sa.Column("parcel_delivered_at", WHEN, nullable=True))
    op.create_table(
        "return_tracking_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("return_id", ID, nullable=False),
        sa.Column("carrier", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["return_requests.id"],
            name=op.f("fk_return_tracking_events_return_id_return_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_tracking_events")),
        sa.UniqueConstraint(
            "carrier", "event_id", name=op.f("uq_return_tracking_events_carrier_event_id")
        ),
    )
    op.create_index(
        "ix_return_tracking_events_return", "return_tracking_events", ["return_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_return_tracking_events_return", table_name="return_tracking_events")
    op.drop_table("return_tracking_events")
    # Plain DROP COLUMN (SQLite >= 3.35 has it): a batch copy of ``markets`` would rebuild
    # its CHECK constraints in a form an older revision's DROP COLUMN then trips over.
    for table, column in (
        ("return_requests", "parcel_delivered_at"),
        ("return_requests", "parcel_status"),
        ("return_requests", "carrier"),
        ("markets", "auto_cancel_days"),
        ("markets", "dispatch_days"),
    ):
        op.drop_column(table, column)
