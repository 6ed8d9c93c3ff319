"""Money never touches float: every module on the money path is scanned (the ledger's own
scan is in tests/ledger/test_no_float.py)."""

from __future__ import annotations

from pathlib import Path

import liveshop
from tests.ledger.test_no_float import float_sites

ROOT = Path(liveshop.__file__).parent
MONEY_PATH = [
    *sorted((ROOT / "orders").rglob("*.py")),
    *sorted((ROOT / "inventory").glob("*.py")),
    *sorted((ROOT / "markets").glob("*.py")),
    ROOT / "core" / "money.py",
    ROOT / "catalog" / "service.py",
    ROOT / "live" / "deals" / "service.py",
    ROOT / "live" / "deals" / "models.py",
]


def test_money_path_has_no_float_arithmetic() -> None:
    assert len(MONEY_PATH) > 20
    assert [site for f in MONEY_PATH for site in float_sites(f)] == []
