"""Who speaks in a conversation, as a Discord persona (webhook name and avatar)."""

from __future__ import annotations

from adapters.discord.render import Persona
from bot.models import ChatRequest
from bot.service import ChatService


class PersonaBook:
    def __init__(self, service: ChatService) -> None:
        self._service = service

    async def for_request(self, request: ChatRequest) -> Persona | None:
        """The persona of the preset that answers the request, or None when no preset answers there."""
        speaker = await self._service.speaker(request)
        if speaker is None:
            return None
        return Persona(name=speaker.name, avatar_url=speaker.avatar_url)
