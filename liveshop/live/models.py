"""live tables (filled in by its issue)."""
