"""payments that never get stuck: the sandbox provider's charge record, holds kept while paying

Revision ID: 0016
Revises: 0015

``sandbox_charges`` is the sandbox provider's own record of the charges it was asked for,
keyed by the caller's idempotency key (it emulates an external provider, whose memory
outlives a crash of liveshop). ``reservations.paying``: a payment is in flight for the
units, so the hold does not expire until the payment is resolved. Nothing to backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = liveshop.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sandbox_charges",
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("provider_ref", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settles_to", sa.String(length=12), nullable=True),
        sa.Column("settles_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_sandbox_charges")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_sandbox_charges_provider_ref")),
    )
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(
            sa.Column("paying", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("paying")
    op.drop_table("sandbox_charges")
