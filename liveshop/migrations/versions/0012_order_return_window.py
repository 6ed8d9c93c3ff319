"""orders: the return window is frozen on the order when it is placed

Revision ID: 0012
Revises: 0011

``orders.return_window_days`` (0–365): the market's window when the order was placed. A
creator's commission is pending until delivery + this many days, so the "payable on" date they
are shown never moves; an admin's later change of ``markets.return_window_days`` applies to
orders placed after it.

Backfill: existing orders take their market's window as it is now (what they were read with
until this revision).

SQLite: the CHECK goes in as a column constraint of ``ADD COLUMN`` (as in 0009), with a
DEFAULT it needs for the existing rows; on PostgreSQL the default is dropped after the backfill
(checkout always sets the column).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_orders_return_window_range"
CONDITION = "return_window_days >= 0 AND return_window_days <= 365"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "ALTER TABLE orders ADD COLUMN return_window_days INTEGER DEFAULT 14 NOT NULL "
            f"CONSTRAINT {CHECK} CHECK ({CONDITION})"
        )
    else:
        op.add_column(
            "orders",
            sa.Column("return_window_days", sa.Integer(), server_default="14", nullable=False),
        )
        op.create_check_constraint(CHECK, "orders", CONDITION)
    orders = sa.table(
        "orders", sa.column("market_code", sa.String()), sa.column("return_window_days")
    )
    markets = sa.table(
        "markets", sa.column("code", sa.String()), sa.column("return_window_days", sa.Integer())
    )
    op.execute(
        orders.update().values(
            return_window_days=sa.select(markets.c.return_window_days)
            .where(markets.c.code == orders.c.market_code)
            .scalar_subquery()
        )
    )
    if not sqlite:
        op.alter_column("orders", "return_window_days", server_default=None)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE orders DROP COLUMN return_window_days")
    else:
        op.drop_constraint(CHECK, "orders", type_="check")
        op.drop_column("orders", "return_window_days")
