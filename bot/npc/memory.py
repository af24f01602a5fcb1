"""What the NPC service remembers between messages, in the marker store (so it survives restarts and is
shared by several processes): the last NPC that spoke in a conversation, and which NPC wrote which
platform message (so "reply to an NPC's message" reaches that NPC). Entries expire after ``ttl`` (seven
days by default), which bounds the store: no map grows without limit.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.keys import LastNpcSpeaker, NpcAuthor
from bot.ports import MarkerStore

DEFAULT_TTL = 7 * 86400.0


class NpcMemory:
    def __init__(self, markers: MarkerStore, ttl: float = DEFAULT_TTL) -> None:
        self._markers = markers
        self._ttl = ttl

    async def last_speaker(self, conversation: str) -> str | None:
        return await self._markers.get_value(LastNpcSpeaker(conversation))

    async def set_last_speaker(self, conversation: str, character_id: str) -> None:
        await self._markers.put_value(LastNpcSpeaker(conversation), character_id, self._ttl)

    async def author_of(self, message_id: str | None) -> str | None:
        """The character id of the NPC that wrote this platform message (platform-qualified id)."""
        if not message_id:
            return None
        return await self._markers.get_value(NpcAuthor(message_id))

    async def remember_messages(self, message_ids: Iterable[str], character_id: str) -> None:
        for message_id in message_ids:
            await self._markers.put_value(NpcAuthor(message_id), character_id, self._ttl)
