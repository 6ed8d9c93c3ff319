"""a support case records how it found its shop: by the author's order from it, or — no
order matched — by the product on screen, the show's own shop, or the showcase; a chat
report says what it reports (a comment, a viewer or the show itself: one per reporter and
show)

Revision ID: 0038
Revises: 0040
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SHOW_ONCE = "uq_chat_reports_reporter_show"


def upgrade() -> None:
    op.add_column("support_cases", sa.Column("routed_by", sa.String(10), nullable=True))
    op.add_column("chat_reports", sa.Column("subject", sa.String(8), nullable=True))
    op.create_index(
        SHOW_ONCE,
        "chat_reports",
        ["reporter_id", "session_id"],
        unique=True,
        postgresql_where=sa.text("subject = 'show'"),
        sqlite_where=sa.text("subject = 'show'"),
    )


def downgrade() -> None:
    op.drop_index(SHOW_ONCE, table_name="chat_reports")
    op.drop_column("chat_reports", "subject")
    op.drop_column("support_cases", "routed_by")
