"""addresses: the buyer's address book, and the copy of an address each order keeps

Revision ID: 0021
Revises: 0019

``addresses``: a buyer's delivery addresses, normalised to their country's format, at most
one default per buyer and country (a partial unique index). ``order_addresses``: where an
order goes, copied at checkout; it names the address it came from without a foreign key,
so deleting an address never touches an order. Nothing to backfill (older orders have no
address).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _address_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("company_name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("street_address", sa.String(length=300), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("city_area", sa.String(length=120), nullable=False),
        sa.Column("country_area", sa.String(length=120), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("sorting_code", sa.String(length=20), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        *_address_columns(),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_addresses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_index(op.f("ix_addresses_user_id"), "addresses", ["user_id"])
    op.create_index(
        "uq_addresses_one_default",
        "addresses",
        ["user_id", "country_code"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "order_addresses",
        sa.Column("order_id", ID, nullable=False),
        sa.Column("address_id", sa.BigInteger(), nullable=True),
        *_address_columns(),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_addresses_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_addresses")),
    )


def downgrade() -> None:
    op.drop_table("order_addresses")
    op.drop_index("uq_addresses_one_default", table_name="addresses")
    op.drop_index(op.f("ix_addresses_user_id"), table_name="addresses")
    op.drop_table("addresses")
