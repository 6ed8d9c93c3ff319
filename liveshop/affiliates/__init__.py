"""Affiliates: shops' affiliate plans and the commission rates they give creators, buyers'
attribution clicks, agencies, and creators' versioned contracts (with the agency's split).

Data and the rules that keep it consistent; it knows nothing of live sessions or orders.
Deciding an order's attribution and settling a session's fees are the creators package's.
"""
