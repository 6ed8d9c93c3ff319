"""Seller support: complaints about an order, stock or delivery, recognised in a live room's
chat and routed to the seller as a support case (``helpdesk.classify``, ``helpdesk.service``)."""
