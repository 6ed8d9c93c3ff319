"""inventory tables (filled in by its issue)."""
