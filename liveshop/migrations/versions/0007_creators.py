"""creators: affiliate plans, clicks, agencies, contracts, subsidies, coupons, payout statements

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liveshop.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "payout_statements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("party_kind", sa.String(length=10), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opening_owed_minor", sa.BigInteger(), nullable=False),
        sa.Column("earned_minor", sa.BigInteger(), nullable=False),
        sa.Column("deducted_minor", sa.BigInteger(), nullable=False),
        sa.Column("closing_owed_minor", sa.BigInteger(), nullable=False),
        sa.Column("pending_minor", sa.BigInteger(), nullable=False),
        sa.Column("payout_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("paid_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_statements")),
        sa.UniqueConstraint(
            "party_kind",
            "party_id",
            "currency",
            "period_start",
            name=op.f("uq_payout_statements_party_kind_party_id_currency_period_start"),
        ),
    )
    with op.batch_alter_table("payout_statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payout_statements_party", ["party_kind", "party_id"], unique=False
        )

    op.create_table(
        "agencies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_agencies_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "subsidy_campaigns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("gmv_threshold_minor", sa.BigInteger(), nullable=False),
        sa.Column("budget_minor", sa.BigInteger(), nullable=False),
        sa.Column("per_order_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("spent_minor", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "budget_minor >= 0", name=op.f("ck_subsidy_campaigns_budget_not_negative")
        ),
        sa.CheckConstraint(
            "per_order_cap_minor >= 0", name=op.f("ck_subsidy_campaigns_cap_not_negative")
        ),
        sa.CheckConstraint(
            "spent_minor >= 0 AND spent_minor <= budget_minor",
            name=op.f("ck_subsidy_campaigns_within_budget"),
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_subsidy_campaigns_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["market_code"], ["markets.code"], name=op.f("fk_subsidy_campaigns_market_code_markets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_campaigns")),
    )
    with op.batch_alter_table("subsidy_campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_subsidy_campaigns_market", ["market_code"], unique=False)

    op.create_table(
        "affiliate_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("valid_from", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_affiliate_plans_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_plans")),
    )
    with op.batch_alter_table("affiliate_plans", schema=None) as batch_op:
        batch_op.create_index("ix_affiliate_plans_shop", ["shop_id"], unique=False)

    op.create_table(
        "agency_members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("joined_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_members_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_agency_members_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_members")),
        sa.UniqueConstraint("creator_id", name=op.f("uq_agency_members_creator_id")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("valid_from", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", liveshop.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_uses IS NULL OR used_count <= max_uses", name=op.f("ck_coupons_within_max_uses")
        ),
        sa.CheckConstraint("per_buyer_limit >= 1", name=op.f("ck_coupons_per_buyer_positive")),
        sa.CheckConstraint("used_count >= 0", name=op.f("ck_coupons_used_not_negative")),
        sa.CheckConstraint("value > 0", name=op.f("ck_coupons_value_positive")),
        sa.ForeignKeyConstraint(
            ["market_code"], ["markets.code"], name=op.f("fk_coupons_market_code_markets")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_coupons_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("shop_id", "code", name=op.f("uq_coupons_shop_id_code")),
    )
    op.create_table(
        "creator_contracts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agency_share_bp", sa.Integer(), nullable=False),
        sa.Column("base_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_live_minutes", sa.Integer(), nullable=False),
        sa.Column("gmv_tiers", sa.JSON(), nullable=False),
        sa.Column("effective_from", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "agency_share_bp >= 0 AND agency_share_bp <= 10000",
            name=op.f("ck_creator_contracts_agency_share_range"),
        ),
        sa.CheckConstraint(
            "base_fee_minor >= 0", name=op.f("ck_creator_contracts_base_fee_not_negative")
        ),
        sa.CheckConstraint(
            "min_live_minutes >= 0", name=op.f("ck_creator_contracts_min_minutes_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_creator_contracts_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_creator_contracts_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_contracts")),
        sa.UniqueConstraint(
            "creator_id", "version", name=op.f("uq_creator_contracts_creator_id_version")
        ),
    )
    with op.batch_alter_table("creator_contracts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_creator_contracts_creator_from", ["creator_id", "effective_from"], unique=False
        )

    op.create_table(
        "subsidy_claims",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("live_session_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["subsidy_campaigns.id"],
            name=op.f("fk_subsidy_claims_campaign_id_subsidy_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_claims")),
        sa.UniqueConstraint(
            "campaign_id",
            "live_session_id",
            name=op.f("uq_subsidy_claims_campaign_id_live_session_id"),
        ),
        sa.UniqueConstraint(
            "campaign_id", "order_id", name=op.f("uq_subsidy_claims_campaign_id_order_id")
        ),
    )
    with op.batch_alter_table("subsidy_claims", schema=None) as batch_op:
        batch_op.create_index("ix_subsidy_claims_order", ["order_id"], unique=False)

    op.create_table(
        "affiliate_plan_creators",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_affiliate_plan_creators_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["affiliate_plans.id"],
            name=op.f("fk_affiliate_plan_creators_plan_id_affiliate_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_plan_creators")),
        sa.UniqueConstraint(
            "plan_id", "creator_id", name=op.f("uq_affiliate_plan_creators_plan_id_creator_id")
        ),
    )
    op.create_table(
        "affiliate_plan_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (category IS NULL)",
            name=op.f("ck_affiliate_plan_items_product_xor_category"),
        ),
        sa.CheckConstraint(
            "rate_bp >= 0 AND rate_bp <= 10000", name=op.f("ck_affiliate_plan_items_rate_range")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["affiliate_plans.id"],
            name=op.f("fk_affiliate_plan_items_plan_id_affiliate_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_affiliate_plan_items_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_plan_items")),
    )
    with op.batch_alter_table("affiliate_plan_items", schema=None) as batch_op:
        batch_op.create_index("ix_affiliate_plan_items_product", ["product_id"], unique=False)

    op.create_table(
        "coupon_buyer_uses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_coupon_buyer_uses_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_coupon_buyer_uses_coupon_id_coupons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_buyer_uses")),
        sa.UniqueConstraint(
            "coupon_id", "buyer_id", name=op.f("uq_coupon_buyer_uses_coupon_id_buyer_id")
        ),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("buyer_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_coupon_redemptions_coupon_id_coupons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
    )
    with op.batch_alter_table("coupon_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_coupon_redemptions_order", ["order_id"], unique=False)

    op.create_table(
        "creator_attribution_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("clicked_at", liveshop.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["users.id"],
            name=op.f("fk_creator_attribution_clicks_buyer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_creator_attribution_clicks_creator_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_creator_attribution_clicks_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_attribution_clicks")),
    )
    with op.batch_alter_table("creator_attribution_clicks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_creator_clicks_buyer_product",
            ["buyer_id", "product_id", "clicked_at"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("creator_attribution_clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_creator_clicks_buyer_product")

    op.drop_table("creator_attribution_clicks")
    with op.batch_alter_table("coupon_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_coupon_redemptions_order")

    op.drop_table("coupon_redemptions")
    op.drop_table("coupon_buyer_uses")
    with op.batch_alter_table("affiliate_plan_items", schema=None) as batch_op:
        batch_op.drop_index("ix_affiliate_plan_items_product")

    op.drop_table("affiliate_plan_items")
    op.drop_table("affiliate_plan_creators")
    with op.batch_alter_table("subsidy_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_claims_order")

    op.drop_table("subsidy_claims")
    with op.batch_alter_table("creator_contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_creator_contracts_creator_from")

    op.drop_table("creator_contracts")
    op.drop_table("coupons")
    op.drop_table("agency_members")
    with op.batch_alter_table("affiliate_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_affiliate_plans_shop")

    op.drop_table("affiliate_plans")
    with op.batch_alter_table("subsidy_campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_campaigns_market")

    op.drop_table("subsidy_campaigns")
    op.drop_table("agencies")
    with op.batch_alter_table("payout_statements", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_statements_party")

    op.drop_table("payout_statements")
