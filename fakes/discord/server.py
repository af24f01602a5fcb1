"""FakeDiscord: the aiohttp server (REST under /api/v10, gateway at /gateway, control under /_fake)."""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from .config import FakeDiscordConfig
from .control import add_control_routes
from .driver import FakeDriver
from .rest_app import add_app_routes
from .rest_interactions import add_interaction_routes
from .rest_messages import add_message_routes
from .rest_router import API_PREFIX, RestRouter
from .rest_webhooks import add_webhook_routes
from .wire import json_response


class FakeDiscord(FakeDriver):
    def __init__(self, config: FakeDiscordConfig | None = None) -> None:
        super().__init__(config)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None

    def _build_app(self) -> web.Application:
        app = web.Application()
        router = RestRouter(self, app)
        add_app_routes(router, self)
        add_message_routes(router, self)
        add_interaction_routes(router, self)
        add_webhook_routes(router, self)
        app.router.add_get("/gateway", self.gateway.handle)
        add_control_routes(app, self)

        async def unknown_route(request: web.Request) -> web.Response:
            return json_response({"message": "404: Not Found", "code": 0}, status=404)

        app.router.add_route("*", API_PREFIX + "/{tail:.*}", unknown_route)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = an ephemeral port); `api_base` and `gateway_url` are then valid."""
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        """The value for `discord.http.Route.BASE`."""
        return self.base_url + API_PREFIX

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    async def __aenter__(self) -> FakeDiscord:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
