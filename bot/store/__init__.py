"""State store implementations, each serving every state port of ``bot.ports``: SQLite (embedded default) and
Redis (several processes)."""
