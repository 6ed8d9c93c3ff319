"""agency invitations: an agency invites a creator, who accepts (member + contract) or declines

Revision ID: 0034
Revises: 0033
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = liveshop.core.db.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "agency_invitations",
        sa.Column("id", PK, nullable=False),
        sa.Column("agency_id", PK, nullable=False),
        sa.Column("creator_id", PK, nullable=False),
        sa.Column("agency_share_bp", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("invited_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("contract_id", PK, nullable=True),
        sa.CheckConstraint(
            "agency_share_bp >= 0 AND agency_share_bp <= 10000",
            name=op.f("ck_agency_invitations_share_range"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_invitations_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_agency_invitations_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["creator_contracts.id"],
            name=op.f("fk_agency_invitations_contract_id_creator_contracts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_invitations")),
    )
    op.create_index(
        "ix_agency_invitations_creator", "agency_invitations", ["creator_id", "status"]
    )
    op.create_index("ix_agency_invitations_agency", "agency_invitations", ["agency_id"])


def downgrade() -> None:
    op.drop_index("ix_agency_invitations_agency", table_name="agency_invitations")
    op.drop_index("ix_agency_invitations_creator", table_name="agency_invitations")
    op.drop_table("agency_invitations")
