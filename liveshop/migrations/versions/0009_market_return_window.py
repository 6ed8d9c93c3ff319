"""markets: return window and flat shipping fee per market; orders: shipping amounts

Revision ID: 0009
Revises: 0008

SQLite cannot add a table CHECK without rebuilding the table, and rebuilding ``markets`` or
``orders`` with foreign keys on would cascade into the rows that reference them; so on SQLite
each CHECK goes in as a column constraint of ``ADD COLUMN`` (same name as on PostgreSQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, type, default, check name, check) in the order they are added.
COLUMNS: list[tuple[str, str, sa.types.TypeEngine[int], int, str, str]] = [
    (
        "markets",
        "return_window_days",
        sa.Integer(),
        14,
        "ck_markets_return_window_range",
        "return_window_days >= 0 AND return_window_days <= 365",
    ),
    (
        "markets",
        "shipping_fee_minor",
        sa.BigInteger(),
        0,
        "ck_markets_shipping_fee_not_negative",
        "shipping_fee_minor >= 0",
    ),
    (
        "orders",
        "shipping_minor",
        sa.BigInteger(),
        0,
        "ck_orders_shipping_not_negative",
        "shipping_minor >= 0",
    ),
    (
        "orders",
        "shipping_tax_minor",
        sa.BigInteger(),
        0,
        "ck_orders_shipping_tax_within",
        "shipping_tax_minor >= 0 AND shipping_tax_minor <= shipping_minor",
    ),
    (
        "orders",
        "shipping_subsidy_minor",
        sa.BigInteger(),
        0,
        "ck_orders_shipping_subsidy_within",
        "shipping_subsidy_minor >= 0 AND shipping_subsidy_minor <= shipping_minor",
    ),
]

# The reference markets' defaults as of this revision (liveshop/markets/reference.py explains
# them): code -> (return window in days, shipping fee per shop order in minor units).
RULES: dict[str, tuple[int, int]] = {
    "GB": (14, 300),
    "ID": (7, 1_000_000),
    "TH": (7, 4_000),
    "MY": (7, 490),
    "VN": (7, 20_000),
    "DE": (14, 490),
    "FR": (14, 490),
    "IT": (14, 490),
    "ES": (14, 490),
    "US": (30, 599),
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, type_, default, check, condition in COLUMNS:
        if sqlite:
            ddl = type_.compile(dialect=op.get_bind().dialect)
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} {ddl} DEFAULT {default} NOT NULL "
                f"CONSTRAINT {check} CHECK ({condition})"
            )
        else:
            op.add_column(
                table, sa.Column(column, type_, server_default=str(default), nullable=False)
            )
            op.create_check_constraint(check, table, condition)
    markets = sa.table(
        "markets",
        sa.column("code", sa.String()),
        sa.column("return_window_days", sa.Integer()),
        sa.column("shipping_fee_minor", sa.BigInteger()),
    )
    for code, (days, fee) in RULES.items():
        op.execute(
            markets.update()
            .where(markets.c.code == code)
            .values(return_window_days=days, shipping_fee_minor=fee)
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, _, _, check, _ in reversed(COLUMNS):
        if sqlite:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_constraint(check, table, type_="check")
            op.drop_column(table, column)
