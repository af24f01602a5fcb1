"""A tiny in-process backend implementing our own Upstream interface, for core tests that need no wire
protocol. (Tests of real protocols use the fake servers in fakes.)"""

from __future__ import annotations

import asyncio
import itertools

from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import CharacterInfo, ErrorCode, HistoryTurn, NewChat, ReplyStream, UpstreamError


class ScriptedUpstream:
    name = "characterai"

    def __init__(self, chunk: int = 4, pause: float = 0.0) -> None:
        self.chunk = chunk
        self.pause = pause
        self.chats: dict[str, list[str]] = {}
        self.fail_next: ErrorCode | None = None
        self._ids = itertools.count(1)

    @staticmethod
    def answer(character_id: str, text: str) -> str:
        return f"{character_id} heard: {text}"

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def character_info(self, character_id: str) -> CharacterInfo:
        return CharacterInfo(id=character_id, name=character_id.title(), greeting=f"Hello from {character_id}")

    async def create_chat(self, character_id: str) -> NewChat:
        chat_id = f"chat-{next(self._ids)}"
        self.chats[chat_id] = []
        return NewChat(chat_id=chat_id, greeting=f"Hello from {character_id}")

    async def _stream(self, chat_id: str, reply: str) -> ReplyStream:
        if self.fail_next is not None:
            code, self.fail_next = self.fail_next, None
            raise UpstreamError(code, "scripted failure")
        for end in range(self.chunk, len(reply), self.chunk):
            await asyncio.sleep(self.pause)
            yield ReplySnapshot(text=reply[:end])
        self.chats[chat_id].append(reply)
        yield ReplyFinal(text=reply, turn_id=f"turn-{len(self.chats[chat_id])}")

    def send(self, chat_id: str, character_id: str, text: str) -> ReplyStream:
        self.chats[chat_id].append(text)
        return self._stream(chat_id, self.answer(character_id, text))

    def regenerate(self, chat_id: str, character_id: str) -> ReplyStream:
        return self._stream(chat_id, self.answer(character_id, "again"))

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]:
        return [
            HistoryTurn(turn_id=str(i), author_name="?", is_human=i % 2 == 0, text=t)
            for i, t in enumerate(self.chats[chat_id][-limit:])
        ]
