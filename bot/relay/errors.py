"""The two answers a sink turns platform errors into, so the relay can react without knowing the SDK."""

from __future__ import annotations


class RateLimited(Exception):
    """The platform answered 429: nothing may touch the destination (or, if ``is_global``, the whole
    platform budget) for ``retry_after`` seconds."""

    def __init__(self, retry_after: float, *, is_global: bool = False) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g} s" + (" (global)" if is_global else ""))
        self.retry_after = max(0.0, float(retry_after))
        self.is_global = is_global


class NotModified(Exception):
    """The platform says the message already shows this text; the relay counts the edit as done."""
