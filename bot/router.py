"""From a ChatRequest to the preset that answers it and the upstream conversation it continues."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import ChatRequest, Preset
from bot.ports import EVERYONE, BindingStore, ChatIdStore
from bot.presets import PresetCatalog


@dataclass(frozen=True)
class Route:
    conversation: str  # the key the binding (or the default) applies to
    who: str  # EVERYONE for one shared upstream chat, else the user id (per-user scope)
    preset: Preset
    bound: bool  # False when the configured default preset answers

    @property
    def session(self) -> str:
        """One upstream chat: the unit the room queue serialises."""
        return session_key(self.conversation, self.who)


def session_key(conversation: str, who: str) -> str:
    return f"{conversation}|{who}"


class Router:
    def __init__(
        self, bindings: BindingStore, chats: ChatIdStore, catalog: PresetCatalog, default_preset: str | None
    ) -> None:
        self._bindings = bindings
        self._chats = chats
        self.catalog = catalog
        self._default = default_preset

    async def resolve(self, request: ChatRequest) -> Route | None:
        """The thread's own binding, else its parent channel's, else the default preset (None if unset)."""
        keys = [request.conversation_key]
        if request.thread_id is not None:
            keys.append(request.conversation_id)
        for key in keys:
            binding = await self._bindings.get_binding(key)
            if binding is None:
                continue
            preset = await self.catalog.get(binding.preset)
            if preset is not None:
                return self._route(key, preset, request, bound=True)
        if self._default is None:
            return None
        preset = await self.catalog.get(self._default)
        if preset is None:
            return None
        return self._route(request.conversation_key, preset, request, bound=False)

    @staticmethod
    def _route(conversation: str, preset: Preset, request: ChatRequest, bound: bool) -> Route:
        who = request.user_id if preset.scope == "user" and not request.is_dm else EVERYONE
        return Route(conversation=conversation, who=who, preset=preset, bound=bound)

    async def chat_id(self, route: Route) -> str | None:
        return await self._chats.get_chat_id(route.conversation, route.who)
