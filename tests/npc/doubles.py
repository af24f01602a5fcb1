"""A backend double for the NPC core: our own Upstream interface plus ``GroupRooms`` (it declares
``group_rooms``), keeping a transcript per room and counting overlapping operations on one room or one chat
(which the serial worker must never cause)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import CharacterInfo, NewRoom, ReplyStream, UpstreamError
from tests.core.scripted_upstream import ScriptedUpstream


@dataclass
class RoomLog:
    characters: list[str]
    turns: list[tuple[str, str]] = field(default_factory=list)  # (author, text); author "human" or an id


class CastUpstream(ScriptedUpstream):
    """``answer(character_id, text)`` is every reply; a room's generate answers the last human turn (the room
    itself picks the next character in turn when none is asked for)."""

    capabilities = ScriptedUpstream.capabilities.model_copy(update={"group_rooms": True})

    def __init__(self, chunk: int = 4, pause: float = 0.0) -> None:
        super().__init__(chunk=chunk, pause=pause)
        self.rooms: dict[str, RoomLog] = {}
        self.sent: list[tuple[str, str, str]] = []  # (chat or room id, character id or "human", text) in order
        self.overlaps = 0
        self.gate: asyncio.Event | None = None  # when given, a generation waits for it before streaming
        self.at_gate = asyncio.Event()  # set once a generation is waiting at the gate
        self._busy: Counter[str] = Counter()
        self._room_ids = itertools.count(1)
        self._room_turns: Counter[str] = Counter()

    async def character_info(self, character_id: str) -> CharacterInfo:
        info = await super().character_info(character_id)
        return info.model_copy(update={"avatar_url": f"https://img.example/{character_id}-own.png"})

    def _enter(self, place: str) -> None:
        self._busy[place] += 1
        if self._busy[place] > 1:
            self.overlaps += 1

    def _leave(self, place: str) -> None:
        self._busy[place] -= 1

    async def _guarded(
        self, place: str, reply: str, speaker: str | None = None
    ) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        if self.fail_next is not None:
            code, self.fail_next = self.fail_next, None
            raise UpstreamError(code, "scripted failure")
        self._enter(place)
        try:
            if self.gate is not None:
                self.at_gate.set()
                await self.gate.wait()
            for end in range(self.chunk, len(reply), self.chunk):
                await asyncio.sleep(self.pause)
                yield ReplySnapshot(text=reply[:end])
            await asyncio.sleep(self.pause)
            yield ReplyFinal(text=reply, speaker=speaker)
        finally:
            self._leave(place)

    # one-on-one chats: the channel's NPCs are serialised together, so count overlaps per channel of chats
    def send(self, chat_id: str, character_id: str, text: str) -> ReplyStream:
        self.chats[chat_id].append(text)
        self.sent.append((chat_id, "human", text))
        return self._guarded("chats", self.answer(character_id, text))

    # rooms
    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> NewRoom:
        room_id = f"room-{next(self._room_ids)}"
        self.rooms[room_id] = RoomLog(list(character_ids))
        return NewRoom(room_id=room_id)

    async def room_send(self, room_id: str, text: str) -> None:
        self._enter(room_id)
        try:
            await asyncio.sleep(self.pause)
            self.rooms[room_id].turns.append(("human", text))
            self.sent.append((room_id, "human", text))
        finally:
            self._leave(room_id)

    async def room_generate(self, room_id: str, character_id: str | None = None) -> ReplyStream:
        room = self.rooms[room_id]
        if character_id is None:
            character_id = room.characters[self._room_turns[room_id] % len(room.characters)]
        self._room_turns[room_id] += 1
        prompt = next((text for author, text in reversed(room.turns) if author == "human"), "")
        reply = self.answer(character_id, prompt)
        async for event in self._guarded(room_id, reply, speaker=character_id.title()):
            if isinstance(event, ReplyFinal):
                room.turns.append((character_id, event.text))
                self.sent.append((room_id, character_id, event.text))
            yield event
