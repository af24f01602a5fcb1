"""What adapters may read and change of conversations besides talking in them: their records, their upstream
history, their bindings (through ``bot.bindings``), forgetting and restarting them. The HTTP API's conversation
endpoints are built on it; the store itself stays inside the core."""

from __future__ import annotations

from bot.bindings import Bindings
from bot.models import Binding, ChatRequest, ConversationRecord, Preset, ReplyError, ReplyFinal
from bot.ports import BindingStore, ConversationStore
from bot.presets import PresetCatalog
from bot.router import Route, Router
from bot.service import ChatService
from bot.upstream.base import HistoryTurn


class ConversationBook:
    def __init__(
        self,
        conversations: ConversationStore,
        bindings: BindingStore,
        catalog: PresetCatalog,
        router: Router,
        service: ChatService,
        binder: Bindings,
    ) -> None:
        self._conversations = conversations
        self._binding_store = bindings
        self._catalog = catalog
        self._router = router
        self._service = service
        self.bindings = binder  # binding and unbinding (the HTTP API binds through here)

    async def route(self, request: ChatRequest) -> Route | None:
        """The preset and upstream conversation that would answer ``request``."""
        return await self._router.resolve(request)

    async def preset(self, name: str) -> Preset | None:
        return await self._catalog.get(name)

    async def records(
        self,
        user_id: str | None = None,
        conversation: str | None = None,
        limit: int = 20,
        offset: int = 0,
        platform: str | None = None,
    ) -> tuple[list[ConversationRecord], int]:
        """Most recently updated first, with the total (see ``ConversationStore.list_conversations``)."""
        return await self._conversations.list_conversations(user_id, conversation, limit, offset, platform=platform)

    async def record(self, conversation: str, who: str) -> ConversationRecord | None:
        return await self._conversations.get_conversation(conversation, who)

    async def has_chat(self, conversation: str, who: str) -> bool:
        return await self._conversations.get_chat_id(conversation, who) is not None

    async def has_chats(self, conversation: str) -> bool:
        """Whether anybody in the conversation already talks to a character upstream."""
        return bool(await self._conversations.list_chat_ids(conversation))

    async def binding(self, conversation: str) -> Binding | None:
        return await self._binding_store.get_binding(conversation)

    async def history(self, conversation: str, who: str, limit: int) -> list[HistoryTurn]:
        return await self._service.history(conversation, who, limit)

    async def forget(self, conversation: str, who: str) -> None:
        """Forget one upstream conversation (its record and chat id)."""
        await self._conversations.delete_conversation(conversation, who)

    async def restart(self, route: Route) -> ReplyFinal | ReplyError:
        """A new upstream chat with the same character (``/reset``)."""
        return await self._service.reset(route)
