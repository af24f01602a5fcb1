"""FakeTelegram: the aiohttp server that real python-telegram-bot talks to, plus the in-process driver."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from .api_call import ApiCall
from .driver import Driver
from .errors import METHOD_NOT_FOUND, UNAUTHORIZED, ApiError
from .flood import Clock, FloodConfig
from .methods import METHODS, WEBHOOK_METHODS
from .params import Params, UploadedFile, decode_request
from .records import CallRecord, FaultRule
from .webhook import WebhookSender
from .world import BotAccount

JSON_HEADERS = {"Content-Type": "application/json"}  # exactly; json_response would add "; charset=utf-8"


def json_reply(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload, ensure_ascii=False).encode(), status=status, headers=JSON_HEADERS)


class FakeTelegram(Driver):
    """A fake Bot API server. See the package docstring for the whole driver API."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        flood: FloodConfig | None = None,
        accept_any_token: bool = False,
        validate_parse_mode: bool = True,
        webhook_retry_delay: float = 1.0,
        control_api: bool = True,
        flood_clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(
            time_scale=time_scale, flood=flood, validate_parse_mode=validate_parse_mode, flood_clock=flood_clock
        )
        self.accept_any_token = accept_any_token
        self.webhook_retry_delay = webhook_retry_delay  # Telegram seconds, scaled
        self._webhooks = WebhookSender(lambda: self.flood.scaled(self.webhook_retry_delay), self.notify)
        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        if control_api:
            from .control import add_control_routes

            add_control_routes(self.app, self)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.host = "127.0.0.1"

    # ---- lifecycle --------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = ephemeral); returns ``base_url`` for PTB."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = host, int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        self.holds_released.set()
        await self._webhooks.close()
        for bot in self.world.bots_by_token.values():
            bot.queue.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Pass to ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ---- Bot API ----------------------------------------------------------------------------------

    def _bot_for_token(self, token: str) -> BotAccount | None:
        bot = self.world.bots_by_token.get(token)
        if bot is None and self.accept_any_token and ":" in token:
            prefix = token.partition(":")[0]
            name = f"bot{prefix}_bot" if prefix.isdigit() else "FakeBot"
            bot = self.add_bot(token, name, f"Bot {prefix}")
        return bot

    async def _handle_api(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        values: dict[str, Any] = {}
        try:
            values = await decode_request(request)
            bot = self._bot_for_token(token)
            if bot is None:
                raise UNAUTHORIZED
            handler = METHODS.get(method.lower())
            if handler is None:
                raise METHOD_NOT_FOUND
            await self._apply_fault(method, values)
            transport = request.transport
            call = ApiCall(
                self, bot, Params(values), method,
                is_alive=lambda: transport is not None and not transport.is_closing(),
            )
            self.notify()  # lets wait_for() see requests in flight, e.g. a long poll that started
            result = await handler(call)
            status, payload = 200, {"ok": True, "result": result}
            if method.lower() in WEBHOOK_METHODS:
                self._webhooks.sync(bot)
        except ApiError as error:
            status, payload = error.status, error.envelope()
        self.record_call(CallRecord(time.monotonic(), token, method, _loggable(values), status, payload))
        return json_reply(payload, status)

    async def _apply_fault(self, method: str, values: dict[str, Any]) -> None:
        chat_id, text = values.get("chat_id"), values.get("text")
        rule: FaultRule | None = next((r for r in self.faults if r.matches(method, chat_id, text)), None)
        if rule is None:
            return
        rule.hits += 1
        self.faults_injected += 1
        released = self.holds_released
        self.notify()  # lets wait_for() see a call being held
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.hold:
            await released.wait()  # (the call goes on even if its client went away meanwhile, as on Telegram)
        if rule.status == 200:
            return  # a pure delay or hold
        parameters = {"retry_after": rule.retry_after} if rule.retry_after is not None else None
        if rule.status == 429:
            self.flood.stats.too_many_requests += 1
        raise ApiError(rule.status, rule.description, parameters)


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: f"<file {value.filename} {len(value.data)} bytes>" if isinstance(value, UploadedFile) else value
        for key, value in values.items()
    }
