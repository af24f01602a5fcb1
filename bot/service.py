"""The chat service: what every adapter calls. Routes a request, serialises it on its upstream chat through
the room queue, and hands back the reply as a stream of events (cumulative snapshots, then final or error).

A reply that has started upstream always runs to completion even if its consumer goes away (a closed HTTP
stream, a cancelled handler), so the upstream conversation is never left half-way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import partial

from pydantic import BaseModel

from bot.keys import MarkerKey, Seen
from bot.models import ChatRequest, ReplyError, ReplyEvent, ReplyFinal, Speaker
from bot.npc.service import NpcService
from bot.ports import EVERYONE, ConversationStore, MarkerStore, RoomQueue
from bot.presets import PresetCatalog
from bot.router import Route, session_key
from bot.upstream.base import CharacterInfo, ErrorCode, HistoryTurn, NewChat, ReplyStream, Upstream, UpstreamError

log = logging.getLogger("charbridge.service")

NO_PRESET = ReplyError(
    code="no_preset",
    message="No character is set up here yet. An admin can choose one with /preset use <name>.",
)
INTERNAL = ReplyError(code="internal", message="Something went wrong on our side; please try again.")
NPC_UNSUPPORTED = ReplyError(code="unsupported", message="The characters here cannot regenerate a reply.")


class ConversationStatus(BaseModel):
    conversation: str
    preset: str | None
    character_id: str | None
    backend: str | None
    bound: bool
    chat_id: str | None
    queued: int

    def describe(self) -> str:
        """The answer to /status, the same on every platform."""
        if self.preset is None:
            return "No character is set up here yet. An admin can choose one with /preset use <name>."
        how = "bound here" if self.bound else "the default"
        chat = f"upstream chat {self.chat_id}" if self.chat_id else "no conversation yet"
        return (
            f"Character: {self.preset} ({self.backend} {self.character_id}), {how}; {chat}; "
            f"{self.queued} message(s) being answered."
        )


class ChatService:
    def __init__(
        self,
        conversations: ConversationStore,
        markers: MarkerStore,
        catalog: PresetCatalog,
        upstreams: Mapping[str, Upstream],
        queue: RoomQueue,
        npc: NpcService,
        dedupe_ttl: float = 86400.0,
    ) -> None:
        self._conversations = conversations
        self._markers = markers
        self._catalog = catalog
        self._npc = npc
        self._upstreams = upstreams
        self._queue = queue
        self._dedupe_ttl = dedupe_ttl
        self._background: set[asyncio.Task[object]] = set()
        self._characters: dict[tuple[str, str], tuple[float, CharacterInfo]] = {}
        self.character_cache_seconds = 600.0

    async def first_delivery(self, request: ChatRequest) -> bool:
        """False when the platform delivered this message before (Telegram retry, Discord resume)."""
        return await self.first_time(Seen(request.request_id), self._dedupe_ttl)

    async def first_time(self, key: MarkerKey, ttl_seconds: float) -> bool:
        """True the first time ``key`` is marked within the ttl."""
        return await self._markers.mark_once(key, ttl_seconds)

    def reply(self, request: ChatRequest, route: Route) -> AsyncIterator[ReplyEvent]:
        """The single character's answer to the request's text (``route`` is not an NPC preset's)."""
        return self._stream(
            request.request_id,
            route,
            lambda up, chat: up.send(chat, route.preset.character_id, request.text),
            user_id=request.user_id,
        )

    def regenerate(self, request: ChatRequest, route: Route) -> AsyncIterator[ReplyEvent]:
        """Another candidate for the character's last reply in the route's conversation."""
        if route.preset.npcs:
            return _one(NPC_UNSUPPORTED)
        return self._stream(
            request.request_id,
            route,
            lambda up, chat: up.regenerate(chat, route.preset.character_id),
            user_id=request.user_id,
        )

    async def reset(self, route: Route) -> ReplyFinal | ReplyError:
        """Start a new upstream chat for the route's conversation (this user's, under per-user scope); returns
        the character's greeting."""
        if route.preset.npcs:
            return await self._npc.reset(route)
        return await self._queue.run(route.session, lambda: self._new_chat(route))

    async def forget(self, conversation: str) -> None:
        """Forget every upstream chat of a conversation (every user's) with its activity records, so the next
        message starts anew. Each chat is forgotten in its turn on the room queue, after any reply already
        running on it, so that reply cannot record itself into the conversation afterwards."""
        whos = set(await self._conversations.list_chat_ids(conversation)) | {EVERYONE}
        offset = 0
        while True:
            records, total = await self._conversations.list_conversations(
                conversation=conversation, limit=500, offset=offset
            )
            whos |= {record.who for record in records}
            offset += len(records)
            if not records or offset >= total:
                break
        for who in sorted(whos):
            await self._queue.run(
                session_key(conversation, who), partial(self._conversations.delete_conversation, conversation, who)
            )
        await self._conversations.clear_chat_ids(conversation)  # whatever else is keyed there (e.g. an NPC room)

    async def greeting(self, route: Route) -> ReplyFinal | ReplyError:
        """The greeting of the route's character."""
        if route.preset.npcs:
            return await self._npc.greeting(route)
        try:
            info = await self._upstream(route).character_info(route.preset.character_id)
        except UpstreamError as exc:
            return self._error(exc, route)
        return ReplyFinal(text=info.greeting or f"{info.name} is here.", speaker=route.preset.display_name or info.name)

    async def speaker(self, route: Route) -> Speaker:
        """The persona that answers on the route. The character's own name and avatar fill in what the preset
        leaves out; without the backend, the preset's name stands in."""
        preset = route.preset
        name, avatar = preset.display_name, preset.avatar_url
        if name is None or avatar is None:
            info = await self._character(preset.backend, preset.character_id, route)
            if info is not None:
                name, avatar = name or info.name, avatar or info.avatar_url
        return Speaker(name=name or preset.name, avatar_url=avatar, character_id=preset.character_id)

    async def _character(self, backend: str, character_id: str, route: Route) -> CharacterInfo | None:
        """Character info from the backend, cached; None (not cached) while the backend cannot say."""
        key = (backend, character_id)
        now = time.monotonic()
        cached = self._characters.get(key)
        if cached is not None and now - cached[0] < self.character_cache_seconds:
            return cached[1]
        try:
            info = await self._upstream(route).character_info(character_id)
        except UpstreamError as exc:
            log.info("no character info for %s: %s", character_id, exc)
            return None
        self._characters[key] = (now, info)
        return info

    async def status(self, request: ChatRequest, route: Route | None) -> ConversationStatus:
        if route is None:
            return ConversationStatus(
                conversation=request.conversation_key,
                preset=None,
                character_id=None,
                backend=None,
                bound=False,
                chat_id=None,
                queued=0,
            )
        return ConversationStatus(
            conversation=route.conversation,
            preset=route.preset.name,
            character_id=route.preset.character_id,
            backend=route.preset.backend,
            bound=route.bound,
            chat_id=await self._conversations.get_chat_id(route.conversation, route.who),
            queued=self._queue.pending(route.session),
        )

    async def history(self, conversation: str, who: str, limit: int = 50) -> list[HistoryTurn]:
        """The upstream's record of a conversation's turns, oldest first (empty when it has no chat yet)."""
        record = await self._conversations.get_conversation(conversation, who)
        chat_id = await self._conversations.get_chat_id(conversation, who)
        if record is None or chat_id is None:
            return []
        preset = await self._catalog.get(record.preset)
        if preset is None:
            return []
        upstream = self._upstreams.get(preset.backend)
        if upstream is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"backend {preset.backend!r} is not configured")
        return await upstream.history(chat_id, limit)

    def queued(self, route: Route) -> int:
        return self._queue.pending(route.session)

    async def _stream(
        self, label: str, route: Route, start: Callable[[Upstream, str], ReplyStream], user_id: str
    ) -> AsyncIterator[ReplyEvent]:
        events: asyncio.Queue[ReplyEvent] = asyncio.Queue()

        async def job() -> None:
            try:
                upstream = self._upstream(route)
                chat_id = await self._conversations.get_chat_id(route.conversation, route.who)
                if chat_id is None:
                    chat_id = (await self._create_chat(route)).chat_id
                async for event in start(upstream, chat_id):
                    if event.kind == "final":  # recorded before anyone sees the reply as done
                        await self._conversations.record_turn(
                            route.conversation, route.who, user_id, route.preset.name, event.text
                        )
                    events.put_nowait(event)
            except UpstreamError as exc:
                events.put_nowait(self._error(exc, route))
            except Exception:
                log.exception("reply for %s failed", label)
                events.put_nowait(INTERNAL)

        self._keep(self._queue.run(route.session, job))
        while True:
            event = await events.get()
            yield event
            if event.kind != "snapshot":
                return

    async def _new_chat(self, route: Route) -> ReplyFinal | ReplyError:
        await self._conversations.delete_conversation(route.conversation, route.who)
        try:
            chat = await self._create_chat(route)
        except UpstreamError as exc:
            return self._error(exc, route)
        return ReplyFinal(text=chat.greeting or "A new conversation has started.", speaker=route.preset.display_name)

    async def _create_chat(self, route: Route) -> NewChat:
        chat = await self._upstream(route).create_chat(route.preset.character_id)
        await self._conversations.set_chat_id(route.conversation, route.who, chat.chat_id)
        return chat

    def _upstream(self, route: Route) -> Upstream:
        upstream = self._upstreams.get(route.preset.backend)
        if upstream is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"backend {route.preset.backend!r} is not configured")
        return upstream

    @staticmethod
    def _error(exc: UpstreamError, route: Route) -> ReplyError:
        log.warning("upstream error for preset %s: %s", route.preset.name, exc)
        return ReplyError(code=exc.code.value, message=exc.user_message, retry_after=exc.retry_after)

    def _keep(self, work: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for replies still running upstream (used at shutdown)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._npc.drain()


async def _one(event: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    yield event
