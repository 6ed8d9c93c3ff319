"""analytics: raw events (per-day partitions on PostgreSQL), per-minute and per-viewer
rollups, the rollup's watermark, and the admins' targets per market

Revision ID: 0025
Revises: 0024

The raw events' parent table is ``analytics_events``; on PostgreSQL it is declared
``PARTITION BY RANGE (at)`` and its day partitions live in the ``analytics_parts`` schema
(out of the application's schema, so the models' comparison does not see them), with a
DEFAULT partition so an insert never fails when a day's partition is missing. The app
creates the days ahead and drops those past the retention (``analytics.rollup``).
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
SCHEMA = "analytics_parts"


def _raw_events() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE TABLE analytics_events (
                at TIMESTAMP WITH TIME ZONE NOT NULL,
                minute BIGINT NOT NULL,
                kind VARCHAR(16) NOT NULL,
                market_code VARCHAR(2),
                session_id BIGINT,
                creator_id BIGINT,
                shop_id BIGINT,
                product_id BIGINT,
                order_id BIGINT,
                buyer_id BIGINT,
                viewer VARCHAR(24),
                amount_minor BIGINT NOT NULL,
                seconds INTEGER NOT NULL
            ) PARTITION BY RANGE (at)
            """
        )
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        op.execute(f"CREATE TABLE {SCHEMA}.analytics_events_default "
                   "PARTITION OF analytics_events DEFAULT")
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        for d in range(-1, 8):
            start = today + timedelta(days=d)
            end = start + timedelta(days=1)
            op.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.analytics_events_{start:%Y%m%d} "
                f"PARTITION OF analytics_events FOR VALUES FROM ('{start.isoformat()}') "
                f"TO ('{end.isoformat()}')"
            )
    else:
        op.create_table(
            "analytics_events",
            sa.Column("at", WHEN, nullable=False),
            sa.Column("minute", sa.BigInteger(), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("market_code", sa.String(length=2), nullable=True),
            sa.Column("session_id", sa.BigInteger(), nullable=True),
            sa.Column("creator_id", sa.BigInteger(), nullable=True),
            sa.Column("shop_id", sa.BigInteger(), nullable=True),
            sa.Column("product_id", sa.BigInteger(), nullable=True),
            sa.Column("order_id", sa.BigInteger(), nullable=True),
            sa.Column("buyer_id", sa.BigInteger(), nullable=True),
            sa.Column("viewer", sa.String(length=24), nullable=True),
            sa.Column("amount_minor", sa.BigInteger(), nullable=False),
            sa.Column("seconds", sa.Integer(), nullable=False),
        )
    op.create_index(
        "ix_analytics_events_session_minute", "analytics_events", ["session_id", "minute"]
    )
    op.create_index(
        "ix_analytics_events_market_minute", "analytics_events", ["market_code", "minute"]
    )


def upgrade() -> None:
    _raw_events()
    op.create_table(
        "analytics_minutes",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=True),
        sa.Column("creator_id", sa.BigInteger(), nullable=True),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "viewers", "heartbeats", "joins", "comments", "product_views", "claims",
                "checkouts", "orders",
            )
        ),
        sa.Column("watch_seconds", sa.BigInteger(), nullable=False),
        sa.Column("gmv_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("pins", sa.Integer(), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "minute", name=op.f("pk_analytics_minutes")),
    )
    op.create_index(
        "ix_analytics_minutes_market_minute", "analytics_minutes", ["market_code", "minute"]
    )
    op.create_table(
        "analytics_session_viewers",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("viewer", sa.String(length=24), nullable=False),
        sa.Column("heartbeats", sa.Integer(), nullable=False),
        sa.Column("watch_seconds", sa.BigInteger(), nullable=False),
        sa.Column("first_minute", sa.BigInteger(), nullable=False),
        sa.Column("last_minute", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "session_id", "viewer", name=op.f("pk_analytics_session_viewers")
        ),
    )
    op.create_table(
        "analytics_viewer_days",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("viewer", sa.String(length=24), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("joins", sa.Integer(), nullable=False),
        sa.Column("heartbeats", sa.Integer(), nullable=False),
        sa.Column("watch_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "market_code", "day", "viewer", name=op.f("pk_analytics_viewer_days")
        ),
    )
    op.create_index(
        "ix_analytics_viewer_days_day", "analytics_viewer_days", ["market_code", "day"]
    )
    op.create_table(
        "analytics_rollup_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("done_minute", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_rollup_state")),
    )
    op.create_table(
        "analytics_market_targets",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("monthly_buyers", sa.Integer(), nullable=False),
        sa.Column("repeat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("creators_per_week", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["market_code"], ["markets.code"],
            name=op.f("fk_analytics_market_targets_market_code_markets"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"],
            name=op.f("fk_analytics_market_targets_updated_by_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("market_code", name=op.f("pk_analytics_market_targets")),
    )


def downgrade() -> None:
    op.drop_table("analytics_market_targets")
    op.drop_table("analytics_rollup_state")
    op.drop_index("ix_analytics_viewer_days_day", table_name="analytics_viewer_days")
    op.drop_table("analytics_viewer_days")
    op.drop_table("analytics_session_viewers")
    op.drop_index("ix_analytics_minutes_market_minute", table_name="analytics_minutes")
    op.drop_table("analytics_minutes")
    op.drop_index("ix_analytics_events_market_minute", table_name="analytics_events")
    op.drop_index("ix_analytics_events_session_minute", table_name="analytics_events")
    op.drop_table("analytics_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
