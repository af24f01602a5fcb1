"""Webhook mode: POST each pending update to the bot's URL, one at a time, retrying while it fails.

The body is one Update with ``Content-Type: application/json`` exactly (PTB's handler rejects anything
else) and the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from .world import BotAccount, Webhook

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookSender:
    def __init__(self, retry_delay: Callable[[], float], on_change: Callable[[], None]) -> None:
        self._retry_delay = retry_delay
        self._on_change = on_change
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def sync(self, bot: BotAccount) -> None:
        """Start or stop delivery to match the bot's current webhook setting."""
        task = self._tasks.get(bot.token)
        if bot.webhook is not None and (task is None or task.done()):
            self._tasks[bot.token] = asyncio.create_task(self._run(bot), name=f"fake-telegram-webhook-{bot.id}")
        elif bot.webhook is None and task is not None:
            task.cancel()
            self._tasks.pop(bot.token, None)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self, bot: BotAccount) -> None:
        while bot.webhook is not None:
            updates = bot.queue.ready(1)
            if not updates:
                await bot.queue.wait_changed(1.0)
                continue
            update = updates[0]
            if await self._post(bot.webhook, update):
                bot.queue.confirm(update["update_id"] + 1)
                self._on_change()
            else:
                self._on_change()
                await asyncio.sleep(self._retry_delay())

    async def _post(self, webhook: Webhook, update: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_HEADER] = webhook.secret_token
        try:
            async with self._session.post(webhook.url, data=json.dumps(update).encode(), headers=headers) as reply:
                if 200 <= reply.status < 300:
                    return True
                error = f"Wrong response from the webhook: {reply.status} {reply.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection refused ({type(exc).__name__})"
        webhook.last_error_date, webhook.last_error_message = int(time.time()), error
        return False
