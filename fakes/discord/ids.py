"""Snowflakes, tokens and timestamps shaped like Discord's."""

from __future__ import annotations

import datetime as dt
import secrets
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Makes unique 18-19 digit ids whose top bits carry the creation time in milliseconds."""

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        self._worker_id = worker_id & 0x1F
        self._process_id = process_id & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000)
        if now_ms <= self._last_ms:
            # same (or skewed) millisecond: bump the counter, carrying into the next millisecond
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms += 1
                self._increment = 0
            now_ms = self._last_ms
        else:
            self._last_ms = now_ms
            self._increment = 0
        return (
            ((now_ms - DISCORD_EPOCH_MS) << 22)
            | (self._worker_id << 17)
            | (self._process_id << 12)
            | self._increment
        )


def snowflake_time(snowflake: int) -> dt.datetime:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def new_token(chars: int = 68) -> str:
    """A URL-safe random token, 68 characters by default like real webhook and interaction tokens."""
    token = secrets.token_urlsafe(chars)
    return token[:chars]


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with microseconds and +00:00, the way Discord writes timestamps."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
