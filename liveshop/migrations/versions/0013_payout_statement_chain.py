"""creators: payout statements form a chain per party and currency

Revision ID: 0013
Revises: 0012

``payout_statements.seq`` numbers a party's statements in one currency 1, 2, 3 … in period
order, unique per (party_kind, party_id, currency): a new statement takes the latest one's
seq + 1, so two statements made at once cannot both follow the same one, and each is made
knowing every earlier statement's payout. ``earlier_payouts_minor`` is what a statement held
back for earlier statements' payouts the ledger had not yet deducted by its period's end (so a
commission in both is paid once).

Backfill: existing statements are numbered by (period_start, id) within their party and
currency; their ``earlier_payouts_minor`` is 0 (what they were computed with).

SQLite: ``ADD COLUMN … NOT NULL`` needs a DEFAULT for the existing rows; on PostgreSQL the
seq's default is dropped after the backfill (the service always sets it). The uniqueness is a
unique index, which both databases add without rebuilding the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_payout_statements_party_currency_seq"

statements = sa.table(
    "payout_statements",
    sa.column("id", sa.BigInteger()),
    sa.column("party_kind", sa.String()),
    sa.column("party_id", sa.BigInteger()),
    sa.column("currency", sa.String()),
    sa.column("period_start", sa.DateTime()),
    sa.column("seq", sa.Integer()),
)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column(
        "payout_statements",
        sa.Column("seq", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "payout_statements",
        sa.Column("earlier_payouts_minor", sa.BigInteger(), server_default="0", nullable=False),
    )
    rows = bind.execute(
        sa.select(
            statements.c.id, statements.c.party_kind, statements.c.party_id, statements.c.currency
        ).order_by(
            statements.c.party_kind,
            statements.c.party_id,
            statements.c.currency,
            statements.c.period_start,
            statements.c.id,
        )
    ).all()
    seen: dict[tuple[str, int, str], int] = {}
    for row in rows:
        key = (str(row.party_kind), int(row.party_id), str(row.currency))
        seen[key] = seen.get(key, 0) + 1
        bind.execute(statements.update().where(statements.c.id == row.id).values(seq=seen[key]))
    if bind.dialect.name != "sqlite":
        op.alter_column("payout_statements", "seq", server_default=None)
    op.create_index(
        INDEX, "payout_statements", ["party_kind", "party_id", "currency", "seq"], unique=True
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="payout_statements")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE payout_statements DROP COLUMN earlier_payouts_minor")
        op.execute("ALTER TABLE payout_statements DROP COLUMN seq")
    else:
        op.drop_column("payout_statements", "earlier_payouts_minor")
        op.drop_column("payout_statements", "seq")
