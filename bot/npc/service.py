"""``NpcService``: the NPC way through the core. A conversation whose preset has a cast (``Preset.npcs``)
is answered by the cast member(s) a message addresses (``addressing``), through its room's serial worker
(``worker``), optionally followed by a short character-to-character scene.

Adapters use it like this (one ticket per platform message, taken before any await)::

    ticket = service.npc.arrive(request)
    try:
        async for item in service.npc.reply(request, ticket):
            if isinstance(item, NpcReply): shown = await relay(item.events, as_=item.speaker)
                                          await service.npc.remember(request, item.speaker, shown_ids)
            else: say(item.text)
    finally:
        ticket.release()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

from bot.models import ChatRequest, Preset, ReplyError, ReplyFinal, Speaker
from bot.npc.addressing import NPC_USAGE, AddressProblem, address, cast_names
from bot.npc.cast import next_speaker
from bot.npc.items import NpcItem, NpcNotice
from bot.npc.memory import DEFAULT_TTL, NpcMemory
from bot.npc.order import ArrivalOrder, Ticket
from bot.npc.turns import Place, TurnRunner
from bot.npc.worker import Job, RoomWorker
from bot.ports import ConversationStore, MarkerStore, RoomQueue
from bot.router import Route, Router
from bot.upstream.base import Upstream, UpstreamError

log = logging.getLogger("charbridge.npc")

NO_CAST = "No characters are cast here; /npc works where an NPC preset answers."


@dataclass
class _Planned:
    key: str
    job: Job


def is_npc_preset(preset: Preset) -> bool:
    return bool(preset.npcs)


def cast_line(preset: Preset) -> str:
    how = "one group room" if preset.room else "one chat each"
    return f"Cast: {cast_names(preset.npcs)} ({how})."


def worker_key(place: Place) -> str:
    """A group room is the unit of serial work wherever it is used; one-on-one NPCs share their channel's."""
    return f"room:{place.room_id}" if place.room_id is not None else f"npc:{place.conversation}"


class NpcService:
    def __init__(
        self,
        conversations: ConversationStore,
        markers: MarkerStore,
        router: Router,
        upstreams: Mapping[str, Upstream],
        queue: RoomQueue,
        memory_ttl: float = DEFAULT_TTL,
    ) -> None:
        self._conversations = conversations
        self._router = router
        self._queue = queue
        self.memory = NpcMemory(markers, memory_ttl)
        self._runner = TurnRunner(conversations, upstreams, self.memory)
        self._worker = RoomWorker(queue, self._runner)
        self._order = ArrivalOrder()

    # ----- for adapters -----

    def arrive(self, request: ChatRequest) -> Ticket:
        """Take the request's place in its chat's arrival order. Call it before any await."""
        return self.arrive_in(request.conversation_id)

    def arrive_in(self, conversation_id: str) -> Ticket:
        """The same, by the chat's id (for adapters that take the ticket before normalising)."""
        return self._order.take(conversation_id)

    async def reply(self, request: ChatRequest, route: Route, ticket: Ticket | None = None) -> AsyncIterator[NpcItem]:
        """The cast's answer to the request (``route`` is an NPC preset's): nothing when it addresses nobody,
        else notices and replies (each naming its speaker before its first text), then any scene the preset
        allows."""
        ticket = ticket if ticket is not None else self.arrive(request)
        try:
            await ticket.wait()
            planned = await self._plan(request, route)
            if isinstance(planned, _Planned):
                self._worker.submit(planned.key, planned.job)
        finally:
            ticket.release()
        if planned is None:
            return
        if isinstance(planned, NpcNotice):
            yield planned
            return
        preset = planned.job.place.preset
        async for item in self._worker.follow(planned.key, planned.job, preset.queue_notice_after):
            yield item
        async for item in self._scene(planned):
            yield item

    async def remember(self, request: ChatRequest, speaker: Speaker, message_ids: Iterable[str]) -> None:
        """Record the platform messages (platform-qualified ids) an adapter posted as ``speaker``, so replies
        to them reach that NPC."""
        if speaker.character_id:
            await self.memory.remember_messages(message_ids, speaker.character_id)

    # ----- for the chat service and admin commands -----

    async def prepare(self, request: ChatRequest) -> str | None:
        """After binding: create the group room now, so problems show at once. None, or why it failed."""
        route = await self._router.resolve(request)
        if route is None or not is_npc_preset(route.preset) or not route.preset.room:
            return None
        try:
            await self._runner.room_id(route.conversation, route.preset)
        except UpstreamError as exc:
            log.warning("creating the group room for %s failed: %s", route.conversation, exc)
            return f"The group room could not be created yet ({exc.user_message}); the next message tries again."
        return None

    async def greeting(self, route: Route) -> ReplyFinal:
        preset = route.preset
        return ReplyFinal(text=f"{cast_line(preset)} Address one by name, reply to their messages, or use {NPC_USAGE}.")

    async def reset(self, route: Route) -> ReplyFinal | ReplyError:
        """A new scene: forget the conversation's NPC chats and room (a room is made anew at once)."""
        conversation, preset = route.conversation, route.preset
        for who in await self._conversations.list_chat_ids(conversation):
            await self._conversations.delete_conversation(conversation, who)
        await self._conversations.clear_chat_ids(conversation)
        if preset.room:
            try:
                await self._runner.room_id(conversation, preset)
            except UpstreamError as exc:
                return ReplyError(code=exc.code.value, message=exc.user_message)
        return ReplyFinal(text=f"A new scene starts. {cast_line(preset)}")

    async def drain(self) -> None:
        await self._worker.drain()

    # ----- inside -----

    async def _plan(self, request: ChatRequest, route: Route) -> _Planned | NpcNotice | None:
        preset = route.preset
        from_cast = await self.memory.author_of(request.message_id) is not None
        addressed = address(
            request,
            preset.npcs,
            last_speaker=await self.memory.last_speaker(route.conversation),
            replied_to=await self.memory.author_of(request.reply_to_id),
            from_cast=from_cast,
            fallback=preset.fallback,
            room=preset.room,
            trigger=preset.trigger,
        )
        if addressed is None:
            return None
        if isinstance(addressed, AddressProblem):
            return NpcNotice(kind="usage", text=addressed.message)
        try:
            room_id = await self._runner.room_id(route.conversation, preset) if preset.room else None
        except UpstreamError as exc:
            log.warning("no group room for %s: %s", route.conversation, exc)
            return NpcNotice(kind="error", text=exc.user_message)
        place = Place(conversation=route.conversation, preset=preset, room_id=room_id)
        # Several people share one upstream account here, so each line says who wrote it.
        line = addressed.text if request.is_dm else f"{request.user_name}: {addressed.text}"
        job = Job(place, addressed.targets, [line], request.user_id, mergeable=preset.merge_queued)
        return _Planned(worker_key(place), job)

    async def _scene(self, planned: _Planned) -> AsyncIterator[NpcItem]:
        """Character-to-character turns after a reply: only when the preset enables scenes, each after
        ``scene_delay``, at most ``scene_max_turns``, and never once a user has spoken again in the room."""
        place, key = planned.job.place, planned.key
        preset = place.preset
        spoken = planned.job.spoken
        if not preset.scenes or len(preset.npcs) < 2 or not spoken:
            return
        mark = self._worker.arrivals[key]
        for _ in range(preset.scene_max_turns):
            await asyncio.sleep(preset.scene_delay)
            if self._worker.arrivals[key] != mark:
                return  # a user spoke: they have the floor
            last = spoken[-1]
            speaker = next_speaker(preset.npcs, last.character_id)
            if speaker is None:
                return
            lines = None if place.room_id is not None else [f"{last.name}: {last.text}"]
            job = Job(place, (speaker,), lines, planned.job.user_id, scene=True)
            self._worker.submit(key, job)
            async for item in self._worker.follow(key, job, None):
                yield item
            if not job.spoken:
                return
            spoken = job.spoken
