"""Reading chat history over REST: pages, the last turns, and the look-ups used after a dropped connection
(a cut reply is followed by ``recovery.follow``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import log
from backends.characterai.rest import RestClient
from backends.characterai.wire import Turn, TurnsPage
from bot.upstream.base import HistoryTurn, UpstreamError


class HistoryReader:
    def __init__(self, config: CharacterAIConfig, rest: RestClient) -> None:
        self._config = config
        self._rest = rest

    async def page(self, chat_id: str, next_token: str | None = None) -> TurnsPage:
        return await self._rest.turns(chat_id, next_token)

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]:
        """The last ``limit`` turns, oldest first, following ``next_token`` across pages."""
        turns: list[Turn] = []
        token: str | None = None
        while len(turns) < limit:
            page = await self._rest.turns(chat_id, token)
            turns.extend(page.turns)
            token = page.next_token
            if not page.turns or token is None:
                break
        return [turn.to_history() for turn in reversed(turns[:limit])]

    async def last_turn(self, chat_id: str) -> Turn | None:
        page = await self._rest.turns(chat_id)
        return page.turns[0] if page.turns else None

    async def recent(self, chat_id: str) -> list[Turn]:
        """Newest first, up to ``recovery_pages`` pages."""
        turns: list[Turn] = []
        token: str | None = None
        for _ in range(self._config.recovery_pages):
            page = await self._rest.turns(chat_id, token)
            turns.extend(page.turns)
            token = page.next_token
            if token is None:
                break
        return turns

    async def chat_exists(self, chat_id: str) -> bool:
        return await self._rest.chat(chat_id) is not None

    async def _search(self, chat_id: str, pick: Callable[[list[Turn]], Turn | None]) -> Turn | None:
        """Retries a few times: the server may still be processing the command when the socket drops."""
        for attempt in range(self._config.recovery_attempts):
            if attempt:
                await asyncio.sleep(self._config.recovery_interval)
            try:
                found = pick(await self.recent(chat_id))
            except UpstreamError as exc:
                log.warning("history look-up in %s failed: %s", chat_id, exc.detail)
                continue
            if found is not None:
                return found
        return None

    async def find_turn(self, chat_id: str, turn_id: str, text: str | None = None) -> Turn | None:
        """The turn, optionally only once its primary text equals ``text``."""

        def pick(turns: list[Turn]) -> Turn | None:
            turn = next((t for t in turns if t.turn_id == turn_id), None)
            return turn if turn is not None and (text is None or turn.text == text) else None

        return await self._search(chat_id, pick)

    async def any_present(self, chat_id: str, turn_ids: set[str]) -> bool:
        try:
            turns = await self.recent(chat_id)
        except UpstreamError as exc:
            log.warning("history look-up in %s failed: %s", chat_id, exc.detail)
            return True
        return any(turn.turn_id in turn_ids for turn in turns)
