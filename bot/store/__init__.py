"""State store implementations: SQLite (embedded default) and Redis (several processes)."""
