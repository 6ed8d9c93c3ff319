"""a support case records how it found its shop: by the author's order from it, or — no
order matched — by the product on screen, the show's own shop, or the showcase

Revision ID: 0038
Revises: 0036
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("support_cases", sa.Column("routed_by", sa.String(10), nullable=True))


def downgrade() -> None:
    op.drop_column("support_cases", "routed_by")
