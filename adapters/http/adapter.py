"""The HTTP Chat API adapter: an aiohttp server (AppRunner + TCPSite) in front of the chat service."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web

from adapters.http.auth import ApiKeys, RateLimiter, auth_middleware
from adapters.http.errors import error_middleware
from adapters.http.handlers import OPENAPI_DOCUMENT, ChatApi
from adapters.http.openapi import build_document
from adapters.http.routes import ROUTES, add_routes, public_route_names
from bot.door import Door
from bot.errors import StartupError
from config.settings import HttpApiSettings, Settings

log = logging.getLogger("charbridge.http")

NO_KEYS = (
    "the HTTP API needs at least one key: set CHARBRIDGE_HTTP__API_KEYS='[\"a-long-random-key\"]' "
    "(empty keys do not count)"
)


def api_keys(settings: HttpApiSettings) -> ApiKeys:
    """The configured keys; a StartupError when there is none (an API open to anyone is never started)."""
    keys = [key.get_secret_value() for key in settings.api_keys]
    if not keys or any(not key.strip() for key in keys):
        raise StartupError(NO_KEYS)
    return ApiKeys(keys)


def build_app(
    settings: HttpApiSettings,
    door: Door,
    *,
    clock: Callable[[], float] = time.monotonic,
    rate_window: float = 60.0,
    upstream_retry_after: float = 30.0,
) -> web.Application:
    """The aiohttp application (routes, auth, rate limit, errors), without a socket."""
    keys = api_keys(settings)
    limiter = RateLimiter(settings.rate_limit_per_minute, rate_window, clock)
    app = web.Application(
        middlewares=[error_middleware, auth_middleware(keys, limiter, public_route_names())],
        # Bodies are read (and limited) by the handlers; this only backs that up.
        client_max_size=settings.max_body_bytes + 1,
    )
    app[OPENAPI_DOCUMENT] = build_document(ROUTES)
    add_routes(
        app, ChatApi(door, settings.max_body_bytes, upstream_retry_after, settings.sse_keepalive_seconds)
    )
    return app


class HttpAdapter:
    """``HttpAdapter(settings, door)``; ``await start()`` listens on ``settings.http.host:port``
    (port 0: any free port, see ``port``), ``await stop()`` closes it.

    ``rate_window`` is the rate limit's window in seconds (``rate_limit_per_minute`` requests per window);
    ``upstream_retry_after`` is the Retry-After sent when the backend is rate limited; ``shutdown_timeout``
    bounds how long ``stop`` waits for open requests; ``clock`` is the rate limiter's monotonic clock."""

    name = "http"

    def __init__(
        self,
        settings: Settings,
        door: Door,
        *,
        clock: Callable[[], float] = time.monotonic,
        rate_window: float = 60.0,
        upstream_retry_after: float = 30.0,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self._settings = settings.http
        self._door = door
        self._clock = clock
        self._rate_window = rate_window
        self._upstream_retry_after = upstream_retry_after
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def start(self) -> None:
        app = build_app(
            self._settings,
            self._door,
            clock=self._clock,
            rate_window=self._rate_window,
            upstream_retry_after=self._upstream_retry_after,
        )
        runner = web.AppRunner(app, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, self._settings.host, self._settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"the HTTP API cannot listen on {self._settings.host}:{self._settings.port}: {exc.strerror or exc}"
            ) from None
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("HTTP API listening on %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the HTTP API is not started")
        return self._port

    @property
    def url(self) -> str:
        host = self._settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def app(self) -> web.Application:
        if self._runner is None:
            raise RuntimeError("the HTTP API is not started")
        return self._runner.app
