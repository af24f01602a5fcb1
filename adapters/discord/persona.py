"""Who speaks in a conversation: the preset's display name and avatar, else the character's own name."""

from __future__ import annotations

import time

from adapters.discord.render import Persona
from bot.models import ChatRequest, ReplyFinal
from bot.service import ChatService


class PersonaBook:
    """Looks the persona of a conversation up, caching the upstream's character names for ``ttl`` s."""

    def __init__(self, service: ChatService, *, ttl: float = 600.0) -> None:
        self._service = service
        self._ttl = ttl
        self._names: dict[tuple[str, str], tuple[float, str | None]] = {}

    async def for_request(self, request: ChatRequest) -> Persona | None:
        """The persona of the preset that answers the request, or None when no preset answers there."""
        route = await self._service.router.resolve(request)
        if route is None:
            return None
        preset = route.preset
        name = preset.display_name or await self._character_name(request, preset.backend, preset.character_id)
        return Persona(name=name, avatar_url=preset.avatar_url)

    async def _character_name(self, request: ChatRequest, backend: str, character_id: str) -> str | None:
        key = (backend, character_id)
        cached = self._names.get(key)
        if cached is not None and time.monotonic() < cached[0] + self._ttl:
            return cached[1]
        # ChatService.greeting looks the character up upstream; its speaker is the character's name.
        result = await self._service.greeting(request)
        if not isinstance(result, ReplyFinal):
            return None  # not cached: the upstream may be back soon
        self._names[key] = (time.monotonic(), result.speaker)
        return result.speaker
