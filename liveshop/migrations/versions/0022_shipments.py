"""shipments: an order's parcels, their lines and tracking events; the simulated carrier's
outbox of tracking webhooks; buyers' returns and their lines; notices (each user's inbox,
and the outbox the e-mail sender drains)

Revision ID: 0022
Revises: 0021

Nothing to backfill: older shipped orders keep their free-text carrier and tracking number
on the order row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("carrier", sa.String(length=20), nullable=False),
        sa.Column("carrier_name", sa.String(length=60), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("tracking_number", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("length_mm", sa.Integer(), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("picked_up_at", WHEN, nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("last_event_at", WHEN, nullable=True),
        sa.CheckConstraint("weight_grams > 0", name=op.f("ck_shipments_weight_positive")),
        sa.CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0",
            name=op.f("ck_shipments_size_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shipments_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint(
            "carrier", "tracking_number", name=op.f("uq_shipments_carrier_tracking_number")
        ),
    )
    op.create_index("ix_shipments_order", "shipments", ["order_id"])
    op.create_table(
        "shipment_lines",
        sa.Column("id", ID, nullable=False),
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("order_line_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipment_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"],
            name=op.f("fk_shipment_lines_shipment_id_shipments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"],
            name=op.f("fk_shipment_lines_order_line_id_order_lines"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
        sa.UniqueConstraint(
            "shipment_id", "order_line_id", name=op.f("uq_shipment_lines_shipment_id_order_line_id")
        ),
    )
    op.create_table(
        "tracking_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("carrier", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"],
            name=op.f("fk_tracking_events_shipment_id_shipments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint("carrier", "event_id", name=op.f("uq_tracking_events_carrier_event_id")),
    )
    op.create_index(
        "ix_tracking_events_shipment", "tracking_events", ["shipment_id", "occurred_at"]
    )
    op.create_table(
        "sim_carrier_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("tracking_number", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("send_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_carrier_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_sim_carrier_events_event_id")),
    )
    op.create_index("ix_sim_carrier_events_due", "sim_carrier_events", ["sent_at", "send_at"])
    op.create_index(
        op.f("ix_sim_carrier_events_tracking_number"), "sim_carrier_events", ["tracking_number"]
    )

    op.create_table(
        "return_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("buyer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("decision_note", sa.String(length=300), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("carrier_name", sa.String(length=60), nullable=True),
        sa.Column("tracking_number", sa.String(length=80), nullable=True),
        sa.Column("refund_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("received_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_return_requests_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_return_requests_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_return_requests_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_requests")),
    )
    op.create_index("ix_return_requests_order", "return_requests", ["order_id"])
    op.create_table(
        "return_lines",
        sa.Column("id", ID, nullable=False),
        sa.Column("return_id", ID, nullable=False),
        sa.Column("order_line_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_requests.id"],
            name=op.f("fk_return_lines_return_id_return_requests"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"],
            name=op.f("fk_return_lines_order_line_id_order_lines"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
        sa.UniqueConstraint(
            "return_id", "order_line_id", name=op.f("uq_return_lines_return_id_order_line_id")
        ),
    )

    op.create_table(
        "notices",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("read_at", WHEN, nullable=True),
        sa.Column("email_status", sa.String(length=10), nullable=False),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("emailed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_user", "notices", ["user_id", "id"])
    op.create_index("ix_notices_email", "notices", ["email_status", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_email", table_name="notices")
    op.drop_index("ix_notices_user", table_name="notices")
    op.drop_table("notices")
    op.drop_table("return_lines")
    op.drop_index("ix_return_requests_order", table_name="return_requests")
    op.drop_table("return_requests")
    op.drop_index(op.f("ix_sim_carrier_events_tracking_number"), table_name="sim_carrier_events")
    op.drop_index("ix_sim_carrier_events_due", table_name="sim_carrier_events")
    op.drop_table("sim_carrier_events")
    op.drop_index("ix_tracking_events_shipment", table_name="tracking_events")
    op.drop_table("tracking_events")
    op.drop_table("shipment_lines")
    op.drop_index("ix_shipments_order", table_name="shipments")
    op.drop_table("shipments")
