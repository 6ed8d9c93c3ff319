"""Promotions: platform subsidy campaigns and seller-funded coupons, as checkout applies them.

Who pays shows in the ledger:

- a **subsidy** is platform money: the order line keeps its full price (the seller's net and
  the commissions do not change), ``OrderLine.subsidy_minor`` is what the platform pays
  instead of the buyer, and the sale posts it to ``platform_subsidy_expense``;
- a **coupon** is the seller's own discount: it lowers the line's price (gross), so the
  seller's net — and the commissions and tax computed from it — are lower. No one else pays;
- **free shipping** is platform money too: ``Order.shipping_subsidy_minor`` (up to the
  campaign's per-order cap) is the part of the order's shipping fee the platform pays instead
  of the buyer; the seller, who ships, still gets the whole fee net of its tax.

``campaigns`` holds the campaigns and their budgets, ``coupons`` the coupons and their use
limits, ``claims`` the audit rows of what an order (or a session's bonus) took and the
returns that give budget back. Nothing here commits except creating a campaign or a coupon:
claims and returns run inside the caller's transaction (a checkout, a cancellation, a refund,
a session's settlement).
"""
