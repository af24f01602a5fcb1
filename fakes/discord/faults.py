"""Scripted REST failures: answer matching requests with a chosen status a number of times."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultRule:
    """Match `method` (or "*") and a regex searched in the path; answer `status` with `body`.

    For status 429 the body gets `retry_after` and the headers the rate-limit set (`scope` goes to
    `X-RateLimit-Scope`); `via=False` leaves out the `Via` header, which makes discord.py raise instead of
    retrying (its Cloudflare-ban heuristic). A matching request sent before an injected 429's `retry_after`
    has elapsed counts as a penalty, as for the real buckets.
    """

    method: str
    path_pattern: str
    status: int
    code: int = 0
    message: str = "Injected failure"
    times: int = 1
    retry_after: float = 0.1
    via: bool = True
    is_global: bool = False
    scope: str = "user"
    hits: int = 0
    blocked_until: float = 0.0  # monotonic time the last injected 429 asked the client to wait until
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path_pattern)

    def applies_to(self, method: str, path: str) -> bool:
        """The request is one this rule is about (whether or not it still has failures to give)."""
        return (self.method == "*" or self.method.upper() == method.upper()) and bool(self._regex.search(path))

    def matches(self, method: str, path: str) -> bool:
        return self.hits < self.times and self.applies_to(method, path)

    def body(self) -> dict[str, Any]:
        if self.status == 429:
            return {"message": "You are being rate limited.", "retry_after": self.retry_after, "global": self.is_global}
        return {"message": self.message, "code": self.code}

    def headers(self) -> dict[str, str]:
        if self.status != 429:
            return {}
        headers = {"Retry-After": str(max(1, round(self.retry_after))), "X-RateLimit-Scope": self.scope}
        if self.via:
            headers["Via"] = "1.1 google"
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
            headers["X-RateLimit-Scope"] = "global"
        return headers
