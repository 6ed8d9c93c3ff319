"""``python -m liveshop.bench.fanout --node PORT CPU DRIVE_STOCK``: one server process."""

from __future__ import annotations

import sys

from liveshop.bench.fanout.server import node_main

if len(sys.argv) == 5 and sys.argv[1] == "--node":
    cpu = int(sys.argv[3])
    node_main(int(sys.argv[2]), None if cpu < 0 else cpu, sys.argv[4] == "1")
else:
    sys.exit("usage: python -m liveshop.bench.fanout --node PORT CPU DRIVE_STOCK")
