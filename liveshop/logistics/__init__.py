"""Delivering what is sold: shipments, carriers (manual and a simulated one with signed
tracking webhooks), labels and packing slips. Above orders (it moves an order to shipped and
delivered through ``orders.transitions``), below live."""
