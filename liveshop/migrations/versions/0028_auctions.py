"""live auctions: lots held from stock, their accepted bids and the offers made at the
hammer (the winner, then runners-up while cards fail); markets may disable auctions

Revision ID: 0028
Revises: 0025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0028"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = liveshop.core.db.UTCDateTime()


def upgrade() -> None:
    op.add_column(
        "markets",
        sa.Column("auctions_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.create_table(
        "auctions",
        sa.Column("id", PK, nullable=False),
        sa.Column("session_id", PK, nullable=False),
        sa.Column("creator_id", sa.BigInteger(), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("sku_id", PK, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("start_minor", sa.BigInteger(), nullable=False),
        sa.Column("increments", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("snipe_seconds", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("current_minor", sa.BigInteger(), nullable=False),
        sa.Column("leader_id", sa.BigInteger(), nullable=True),
        sa.Column("leader_max_minor", sa.BigInteger(), nullable=False),
        sa.Column("bid_count", sa.Integer(), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("reservation_id", sa.BigInteger(), nullable=True),
        sa.Column("winner_id", sa.BigInteger(), nullable=True),
        sa.Column("hammer_minor", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("settling_since", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_auctions_quantity_positive")),
        sa.CheckConstraint("start_minor > 0", name=op.f("ck_auctions_start_positive")),
        sa.CheckConstraint(
            "leader_id IS NULL OR (current_minor >= start_minor "
            "AND leader_max_minor >= current_minor)",
            name=op.f("ck_auctions_leader_consistent"),
        ),
        sa.CheckConstraint("snipe_seconds >= 0", name=op.f("ck_auctions_snipe_not_negative")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_auctions_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_auctions_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auctions")),
    )
    op.create_index("ix_auctions_session_status", "auctions", ["session_id", "status"])
    op.create_index("ix_auctions_status_ends", "auctions", ["status", "ends_at"])
    op.create_table(
        "auction_bids",
        sa.Column("id", PK, nullable=False),
        sa.Column("auction_id", PK, nullable=False),
        sa.Column("bidder_id", PK, nullable=False),
        sa.Column("max_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("leading_after", sa.Boolean(), nullable=False),
        sa.Column("placed_at", WHEN, nullable=False),
        sa.CheckConstraint("max_minor > 0", name=op.f("ck_auction_bids_max_positive")),
        sa.ForeignKeyConstraint(
            ["auction_id"],
            ["auctions.id"],
            name=op.f("fk_auction_bids_auction_id_auctions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bidder_id"],
            ["users.id"],
            name=op.f("fk_auction_bids_bidder_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_bids")),
    )
    op.create_index("ix_auction_bids_auction_max", "auction_bids", ["auction_id", "max_minor"])
    op.create_table(
        "auction_offers",
        sa.Column("id", PK, nullable=False),
        sa.Column("auction_id", PK, nullable=False),
        sa.Column("bidder_id", PK, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("failure", sa.String(length=60), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["auction_id"],
            ["auctions.id"],
            name=op.f("fk_auction_offers_auction_id_auctions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bidder_id"],
            ["users.id"],
            name=op.f("fk_auction_offers_bidder_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_offers")),
        sa.UniqueConstraint("auction_id", "bidder_id", name="uq_auction_offers_bidder"),
    )


def downgrade() -> None:
    op.drop_table("auction_offers")
    op.drop_index("ix_auction_bids_auction_max", table_name="auction_bids")
    op.drop_table("auction_bids")
    op.drop_index("ix_auctions_status_ends", table_name="auctions")
    op.drop_index("ix_auctions_session_status", table_name="auctions")
    op.drop_table("auctions")
    if op.get_bind().dialect.name == "sqlite":  # as 0009: no table rebuild
        op.execute("ALTER TABLE markets DROP COLUMN auctions_enabled")
    else:
        op.drop_column("markets", "auctions_enabled")
