"""Money never touches float in the ledger: checked in the source and at the boundary."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import liveshop.ledger
from liveshop.ledger.allocation import allocate, reversal
from liveshop.ledger.entries import AccountKey, Posting
from liveshop.ledger.models import AccountType

LEDGER_DIR = Path(liveshop.ledger.__file__).parent
MIGRATION = LEDGER_DIR.parent / "migrations" / "versions" / "0002_ledger.py"


def float_sites(path: Path) -> list[str]:
    """Float literals, float() calls and true division (``/`` makes floats out of ints)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            found.append(f"{where} float literal {node.value!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"float", "round"}:
                found.append(f"{where} {node.func.id}() call")
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
            found.append(f"{where} true division")
    return found


def test_ledger_source_has_no_float_arithmetic() -> None:
    files = [*sorted(LEDGER_DIR.glob("*.py")), MIGRATION]
    assert len(files) >= 8
    assert [site for f in files for site in float_sites(f)] == []


def test_the_scan_would_notice(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("a = 1.5\nb = float(2)\nc = 3 / 4\nd = 7\nd /= 2\ne = 7 // 2\n")
    assert len(float_sites(sample)) == 4


def test_float_is_refused_at_every_entry_point() -> None:
    key = AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "GBP")
    with pytest.raises(TypeError):
        Posting(key, 9.99)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        allocate(10.0, [1, 2])  # type: ignore[arg-type]
    pair = [
        Posting(key, 5),
        Posting(AccountKey(AccountType.PAYMENT_CLEARING, "provider:x", "GBP"), -5),
    ]
    with pytest.raises(TypeError):
        reversal(pair, numerator=0.5, denominator=1)  # type: ignore[arg-type]
