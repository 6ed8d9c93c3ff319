"""orders tables (filled in by its issue)."""
