"""``python -m liveshop.bench.drop --node PORT CPU``: one server process of the benchmark."""

from __future__ import annotations

import sys

from liveshop.bench.drop.server import node_main

if len(sys.argv) == 4 and sys.argv[1] == "--node":
    cpu = int(sys.argv[3])
    node_main(int(sys.argv[2]), None if cpu < 0 else cpu)
else:
    sys.exit("usage: python -m liveshop.bench.drop --node PORT CPU")
