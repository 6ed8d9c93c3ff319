"""Imports every domain's tables so ``Base.metadata`` is complete (Alembic, tests)."""

from liveshop.accounts import models as accounts_models
from liveshop.addresses import models as addresses_models
from liveshop.affiliates import models as affiliates_models
from liveshop.analytics import models as analytics_models
from liveshop.audit import models as audit_models
from liveshop.catalog import models as catalog_models
from liveshop.chat import models as chat_models
from liveshop.helpdesk import models as helpdesk_models
from liveshop.inventory import models as inventory_models
from liveshop.ledger import models as ledger_models
from liveshop.live import models as live_models
from liveshop.live.auctions import models as live_auction_models
from liveshop.live.deals import models as live_deal_models
from liveshop.live.follows import models as live_follow_models
from liveshop.live.giveaways import models as live_giveaway_models
from liveshop.live.polls import models as live_poll_models
from liveshop.logistics import models as logistics_models
from liveshop.markets import models as markets_models
from liveshop.notices import models as notices_models
from liveshop.orders import models as orders_models
from liveshop.orders import saved_cards as saved_card_models
from liveshop.orders.payments import sandbox_charges as sandbox_charge_models
from liveshop.orders.payments import sandbox_methods as sandbox_method_models
from liveshop.payouts import models as payouts_models
from liveshop.promotions import models as promotions_models
from liveshop.video import models as video_models

__all__ = [
    "accounts_models",
    "addresses_models",
    "affiliates_models",
    "analytics_models",
    "audit_models",
    "catalog_models",
    "chat_models",
    "helpdesk_models",
    "inventory_models",
    "ledger_models",
    "live_auction_models",
    "live_deal_models",
    "live_follow_models",
    "live_giveaway_models",
    "live_models",
    "live_poll_models",
    "logistics_models",
    "markets_models",
    "notices_models",
    "orders_models",
    "payouts_models",
    "promotions_models",
    "sandbox_charge_models",
    "sandbox_method_models",
    "saved_card_models",
    "video_models",
]
