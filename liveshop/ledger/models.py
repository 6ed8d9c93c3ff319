"""ledger tables (filled in by its issue)."""
