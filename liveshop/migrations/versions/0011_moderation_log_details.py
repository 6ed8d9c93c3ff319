"""chat: the moderation log records the actor's capacity and the mute an entry is about

Revision ID: 0011
Revises: 0010

``chat_moderation_log.actor_role`` (creator, moderator, admin, platform_moderator: what the
actor was to the room when they acted) and ``chat_moderation_log.mute_id`` (the mute a
``mute`` gave or an ``unmute`` lifted, so the log can show its reason and end and whether it
is still in force). Hides now name the comment's author in ``target_user_id`` too.

Backfill, best effort: a hide's or unhide's author from its comment; a mute's mute is the
newest mute of that viewer given in that session at or before the entry, by the same actor;
an unmute's is the newest mute of that viewer in the creator's rooms lifted at or before it
by that actor; the capacity is creator, then moderator (as the moderators are now), then
admin, then platform moderator (by the user's roles now). An actor whose account is gone
stays unplaced (NULL).

On SQLite the table is rebuilt (batch mode) to take the named foreign key; no other table
references it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_chat_moderation_log_mute_id_chat_mutes"

BACKFILL = [
    # hide/unhide: the comment's author
    """UPDATE chat_moderation_log SET target_user_id =
         (SELECT c.user_id FROM live_comments c WHERE c.id = chat_moderation_log.comment_id)
       WHERE comment_id IS NOT NULL AND target_user_id IS NULL""",
    # mute: the mute it gave
    """UPDATE chat_moderation_log SET mute_id =
         (SELECT m.id FROM chat_mutes m
           WHERE m.session_id = chat_moderation_log.session_id
             AND m.user_id = chat_moderation_log.target_user_id
             AND m.muted_by = chat_moderation_log.actor_id
             AND m.created_at <= chat_moderation_log.created_at
           ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
       WHERE action = 'mute'""",
    # unmute: the mute it lifted
    """UPDATE chat_moderation_log SET mute_id =
         (SELECT m.id FROM chat_mutes m, live_sessions s
           WHERE s.id = chat_moderation_log.session_id
             AND m.creator_id = s.creator_id
             AND m.user_id = chat_moderation_log.target_user_id
             AND m.lifted_by = chat_moderation_log.actor_id
             AND m.lifted_at <= chat_moderation_log.created_at
           ORDER BY m.lifted_at DESC, m.id DESC LIMIT 1)
       WHERE action = 'unmute'""",
    # the actor's capacity, most specific first
    """UPDATE chat_moderation_log SET actor_role = 'creator'
       WHERE actor_id = (SELECT s.creator_id FROM live_sessions s
                          WHERE s.id = chat_moderation_log.session_id)""",
    """UPDATE chat_moderation_log SET actor_role = 'moderator'
       WHERE actor_role IS NULL AND EXISTS (
         SELECT 1 FROM live_moderators lm, live_sessions s
          WHERE s.id = chat_moderation_log.session_id
            AND lm.user_id = chat_moderation_log.actor_id
            AND ((lm.creator_id = s.creator_id AND lm.session_id IS NULL)
                 OR lm.session_id = s.id))""",
    """UPDATE chat_moderation_log SET actor_role = 'admin'
       WHERE actor_role IS NULL AND EXISTS (
         SELECT 1 FROM user_roles r
          WHERE r.user_id = chat_moderation_log.actor_id AND r.role = 'admin')""",
    """UPDATE chat_moderation_log SET actor_role = 'platform_moderator'
       WHERE actor_role IS NULL AND EXISTS (
         SELECT 1 FROM user_roles r
          WHERE r.user_id = chat_moderation_log.actor_id AND r.role = 'moderator')""",
]


def upgrade() -> None:
    pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    # SQLite cannot add a named foreign key to a table in place: batch mode rebuilds this
    # table (nothing references it, so no cascade is set off).
    with op.batch_alter_table("chat_moderation_log") as batch:
        batch.add_column(sa.Column("actor_role", sa.String(20), nullable=True))
        batch.add_column(sa.Column("mute_id", pk, nullable=True))
        batch.create_foreign_key(FK, "chat_mutes", ["mute_id"], ["id"], ondelete="SET NULL")
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("chat_moderation_log") as batch:
        batch.drop_constraint(FK, type_="foreignkey")
        batch.drop_column("mute_id")
        batch.drop_column("actor_role")
