"""The house's shape, kept by the machine: no import cycles, one-way layers, a ground floor.

The layers themselves are import-linter contracts in ``pyproject.toml`` (``lint-imports`` runs
in ``make test``); these tests read the same import graph with grimp, import-linter's own
graph library, and say in a failing assertion which modules tie a knot.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


@cache
def graph() -> grimp.ImportGraph:
    # Every import counts, type-checking-only ones and those inside functions included.
    return grimp.build_graph("liveshop", cache_dir=None)


def _cycles(g: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One shortest cycle through each direct import that closes one."""
    found: set[tuple[str, ...]] = set()
    for importer in sorted(g.modules):
        for imported in sorted(g.find_modules_directly_imported_by(importer)):
            back = g.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycle = (importer, *back)
                start = cycle.index(min(cycle[:-1]))
                found.add(cycle[start:-1] + cycle[:start] + (cycle[start],))
    return sorted(found)


def test_no_module_import_cycles() -> None:
    cycles = _cycles(graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_core_imports_no_domain() -> None:
    g = graph()
    outside = {
        (m, i)
        for m in g.find_children("liveshop.core") | {"liveshop.core"}
        for i in g.find_modules_directly_imported_by(m)
        if not i.startswith("liveshop.core")
    }
    assert outside == set()


def test_import_contracts_hold() -> None:
    """The layers contract, as ``make test`` runs it (its report names each broken import)."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
