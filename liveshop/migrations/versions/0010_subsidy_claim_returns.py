"""creators: a subsidy claim records what came back to the campaign's budget

Revision ID: 0010
Revises: 0009

``subsidy_claims.returned_minor`` (0 ≤ returned ≤ amount): an unpaid order that is cancelled
returns its whole claim, a refund of a paid order returns the refunded share of its subsidy,
and a campaign's ``spent_minor`` is ``Σ (amount − returned)`` over its claims.

Backfill: before this revision a cancelled unpaid order's claim was set to 0 (nothing to do:
0 of 0 returned), and a refund gave nothing back although its ledger reversal took the
subsidy's share back from ``platform_subsidy_expense``. For those refunds the share is
returned now, computed as the refund postings computed it (cumulative floors: per line
``subsidy·r//q``, shipping ``F·back//units``), so every campaign's budget agrees with the
ledger. Downgrade folds the returns into ``amount_minor`` (the old representation), leaving
``spent_minor`` as it is.

SQLite: the CHECK goes in as a column constraint of ``ADD COLUMN`` (as in 0009).
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_subsidy_claims_returned_within"
CONDITION = "returned_minor >= 0 AND returned_minor <= amount_minor"

claims = sa.table(
    "subsidy_claims",
    sa.column("id", sa.BigInteger()),
    sa.column("campaign_id", sa.BigInteger()),
    sa.column("order_id", sa.BigInteger()),
    sa.column("amount_minor", sa.BigInteger()),
    sa.column("returned_minor", sa.BigInteger()),
)
campaigns = sa.table(
    "subsidy_campaigns",
    sa.column("id", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("spent_minor", sa.BigInteger()),
)
orders = sa.table(
    "orders",
    sa.column("id", sa.BigInteger()),
    sa.column("paid_at", sa.DateTime()),
    sa.column("shipping_subsidy_minor", sa.BigInteger()),
)
lines = sa.table(
    "order_lines",
    sa.column("order_id", sa.BigInteger()),
    sa.column("quantity", sa.Integer()),
    sa.column("refunded_quantity", sa.Integer()),
    sa.column("subsidy_minor", sa.BigInteger()),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE subsidy_claims ADD COLUMN returned_minor BIGINT DEFAULT 0 NOT NULL "
            f"CONSTRAINT {CHECK} CHECK ({CONDITION})"
        )
    else:
        op.add_column(
            "subsidy_claims",
            sa.Column("returned_minor", sa.BigInteger(), server_default="0", nullable=False),
        )
        op.create_check_constraint(CHECK, "subsidy_claims", CONDITION)

    # Refunds made before this revision: give their share of the subsidy back.
    refunded = (
        sa.select(lines.c.order_id)
        .where(lines.c.refunded_quantity > 0)
        .group_by(lines.c.order_id)
        .subquery()
    )
    found = bind.execute(
        sa.select(
            claims.c.id,
            claims.c.campaign_id,
            claims.c.order_id,
            claims.c.amount_minor,
            campaigns.c.kind,
            orders.c.shipping_subsidy_minor,
        )
        .join(campaigns, campaigns.c.id == claims.c.campaign_id)
        .join(orders, orders.c.id == claims.c.order_id)
        .join(refunded, refunded.c.order_id == claims.c.order_id)
        .where(orders.c.paid_at.is_not(None), claims.c.amount_minor > 0)
        .order_by(claims.c.id)
    ).all()
    if not found:
        return
    by_order: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for row in bind.execute(
        sa.select(
            lines.c.order_id, lines.c.quantity, lines.c.refunded_quantity, lines.c.subsidy_minor
        ).where(lines.c.order_id.in_({int(r.order_id) for r in found}))
    ).all():
        by_order[int(row.order_id)].append(
            (int(row.quantity), int(row.refunded_quantity), int(row.subsidy_minor))
        )
    for claim in found:
        order_lines = by_order[int(claim.order_id)]
        if claim.kind == "free_shipping":
            units = sum(q for q, _, _ in order_lines)
            back = sum(r for _, r, _ in order_lines)
            due = int(claim.shipping_subsidy_minor) * back // units if units else 0
        else:
            due = sum(s * r // q for q, r, s in order_lines if q)
        due = max(0, min(due, int(claim.amount_minor)))
        if due == 0:
            continue
        bind.execute(claims.update().where(claims.c.id == claim.id).values(returned_minor=due))
        bind.execute(
            campaigns.update()
            .where(campaigns.c.id == claim.campaign_id)
            .values(spent_minor=campaigns.c.spent_minor - due)
        )


def downgrade() -> None:
    op.execute(
        claims.update()
        .where(claims.c.returned_minor > 0)
        .values(amount_minor=claims.c.amount_minor - claims.c.returned_minor, returned_minor=0)
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE subsidy_claims DROP COLUMN returned_minor")
    else:
        op.drop_constraint(CHECK, "subsidy_claims", type_="check")
        op.drop_column("subsidy_claims", "returned_minor")
