"""live rooms: sessions, showcase, moderators, comments

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('live_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('market_code', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('planned_start', liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('planned_duration_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('actual_start', liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('actual_end', liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('peak_viewers', sa.Integer(), nullable=False),
    sa.Column('avg_viewers', sa.Integer(), nullable=False),
    sa.Column('likes', sa.BigInteger(), nullable=False),
    sa.Column('comments_count', sa.Integer(), nullable=False),
    sa.Column('orders_count', sa.Integer(), nullable=False),
    sa.Column('gmv_minor', sa.BigInteger(), nullable=False),
    sa.Column('pinned_product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('gmv_minor >= 0', name=op.f('ck_live_sessions_gmv_not_negative')),
    sa.CheckConstraint('planned_duration_minutes > 0 AND planned_duration_minutes <= 1440', name=op.f('ck_live_sessions_duration_range')),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('fk_live_sessions_creator_id_users')),
    sa.ForeignKeyConstraint(['market_code'], ['markets.code'], name=op.f('fk_live_sessions_market_code_markets')),
    sa.ForeignKeyConstraint(['pinned_product_id'], ['products.id'], name=op.f('fk_live_sessions_pinned_product_id_products'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_sessions'))
    )
    op.create_index('ix_live_sessions_creator', 'live_sessions', ['creator_id'], unique=False)
    op.create_index('ix_live_sessions_status_market', 'live_sessions', ['status', 'market_code'], unique=False)
    op.create_table('live_comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_at', liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_comments_session_id_live_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_live_comments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_comments'))
    )
    op.create_index('ix_live_comments_session', 'live_comments', ['session_id', 'id'], unique=False)
    op.create_table('live_moderators',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('creator_id IS NOT NULL OR session_id IS NOT NULL', name=op.f('ck_live_moderators_creator_or_session')),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('fk_live_moderators_creator_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_moderators_session_id_live_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_live_moderators_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_moderators')),
    sa.UniqueConstraint('creator_id', 'session_id', 'user_id', name=op.f('uq_live_moderators_creator_id_session_id_user_id'))
    )
    op.create_index('ix_live_moderators_user', 'live_moderators', ['user_id'], unique=False)
    op.create_table('live_showcase_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_live_showcase_items_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_showcase_items_session_id_live_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_showcase_items')),
    sa.UniqueConstraint('session_id', 'product_id', name=op.f('uq_live_showcase_items_session_id_product_id'))
    )
    op.create_table('flash_deals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('regular_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('sold', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('end_reason', sa.String(length=12), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('starts_at', liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_flash_deals_price_not_negative')),
    sa.CheckConstraint('sold >= 0 AND sold <= units', name=op.f('ck_flash_deals_sold_within_units')),
    sa.CheckConstraint('units > 0', name=op.f('ck_flash_deals_units_positive')),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_flash_deals_session_id_live_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_flash_deals_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flash_deals'))
    )
    op.create_index('ix_flash_deals_session_status', 'flash_deals', ['session_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_flash_deals_session_status', table_name='flash_deals')
    op.drop_table('flash_deals')
    op.drop_table('live_showcase_items')
    op.drop_index('ix_live_moderators_user', table_name='live_moderators')
    op.drop_table('live_moderators')
    op.drop_index('ix_live_comments_session', table_name='live_comments')
    op.drop_table('live_comments')
    op.drop_index('ix_live_sessions_status_market', table_name='live_sessions')
    op.drop_index('ix_live_sessions_creator', table_name='live_sessions')
    op.drop_table('live_sessions')
