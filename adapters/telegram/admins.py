"""Who administers a Telegram chat: asked of the Bot API (getChatAdministrators) and cached briefly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger("charbridge.telegram")


class ChatAdmins:
    def __init__(self, bot: Bot, cache_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._bot = bot
        self._ttl = cache_seconds
        self._clock = clock
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        now = self._clock()
        cached = self._cache.get(chat_id)
        if cached is None or now - cached[0] >= self._ttl:
            try:
                members = await self._bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                # Unknown is not admin: refusing is safe, and the user is told to ask an admin.
                log.warning("could not read the administrators of chat %s: %s", chat_id, exc)
                return False
            cached = (now, frozenset(member.user.id for member in members))
            self._cache[chat_id] = cached
        return user_id in cached[1]
