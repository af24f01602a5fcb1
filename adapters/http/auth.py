"""Bearer API keys and the per-key rate limit.

Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every configured key (no early exit),
so neither the content nor the length of a key leaks through timing. A key is identified in memory and logs only
by its position in the configuration ("key #2"), never by its value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import deque
from collections.abc import Callable, Collection, Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from adapters.http.errors import ApiError

log = logging.getLogger("charbridge.http")

KEY_ID = web.RequestKey("api_key_id", str)


class ApiKeys:
    def __init__(self, keys: Sequence[str]) -> None:
        self._digests = [hashlib.sha256(key.encode()).digest() for key in keys]

    def identify(self, presented: str) -> str | None:
        """The id of the configured key equal to ``presented`` ("key #1"...), else None."""
        digest = hashlib.sha256(presented.encode()).digest()
        found: str | None = None
        for index, known in enumerate(self._digests, start=1):
            if hmac.compare_digest(digest, known) and found is None:
                found = f"key #{index}"
        return found


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds for each key (a sliding window: exact, and small since
    it keeps at most ``limit`` timestamps per key). Per process: several processes each allow ``limit``."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def acquire(self, key_id: str) -> float | None:
        """Count a request; None when allowed, else the seconds until the next one would be."""
        now = self._clock()
        seen = self._seen.setdefault(key_id, deque())
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if len(seen) >= self._limit:
            return seen[0] + self._window - now
        seen.append(now)
        return None


def auth_middleware(keys: ApiKeys, limiter: RateLimiter, public_routes: Collection[str]) -> Middleware:
    """Checks the key and the rate limit of every route except ``public_routes`` (by route name). Unknown paths
    pass through to aiohttp's 404, which reveals nothing."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route_name = request.match_info.route.name
        if request.match_info.http_exception is not None or route_name in public_routes:
            return await handler(request)
        key_id = keys.identify(bearer_token(request.headers.get(hdrs.AUTHORIZATION)) or "")
        if key_id is None:
            log.warning(
                "HTTP API: refused %s %s from %s: no valid API key", request.method, request.path, request.remote
            )
            error = ApiError("UNAUTHORIZED", "Send a valid API key: Authorization: Bearer <key>.")
            response = error.response()
            response.headers[hdrs.WWW_AUTHENTICATE] = 'Bearer realm="charbridge"'
            return response
        wait = limiter.acquire(key_id)
        if wait is not None:
            raise ApiError("RATE_LIMITED", "Too many requests with this API key; retry later.", retry_after=wait)
        request[KEY_ID] = key_id
        return await handler(request)

    return middleware
