"""Running one NPC turn upstream: in a Character.AI group room (post the human turn, then generate as
each target, or as the room's choice) or in one-on-one chats (one upstream chat per NPC per
conversation). Every reply is handed out as an ``NpcReply`` before its first text exists.

Runs inside the room's serial worker, so a room never sees two operations at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.models import NpcCharacter, Preset, ReplyError, ReplyEvent, ReplyFinal, Speaker
from bot.npc.cast import by_name, speaker_of
from bot.npc.items import NpcItem, NpcNotice, NpcReply
from bot.npc.memory import NpcMemory
from bot.ports import ConversationStore
from bot.upstream.base import CharacterInfo, ErrorCode, ReplyStream, Upstream, UpstreamError

log = logging.getLogger("charbridge.npc")

INTERNAL = ReplyError(code="internal", message="Something went wrong on our side; please try again.")
Emit = Callable[[NpcItem], None]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


@runtime_checkable
class RoomBackend(Protocol):
    """The group-room operations of a backend (``CharacterAIBackend`` has them)."""

    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> HasId: ...

    async def room_send(self, room_id: str, text: str) -> object: ...

    def room_generate(self, room_id: str, character_id: str | None = None) -> ReplyStream: ...


@dataclass(frozen=True)
class Place:
    """Where a turn happens: the conversation (binding key), its preset, and its room when it has one."""

    conversation: str
    preset: Preset
    room_id: str | None = None


@dataclass(frozen=True)
class TurnSpec:
    """One turn: who answers (nobody named: the room chooses) and what they are told. ``text`` None is a
    scene turn in a room, where the previous NPC's turn is already in the room."""

    targets: tuple[NpcCharacter, ...]
    text: str | None
    user_id: str
    scene: bool = False


@dataclass(frozen=True)
class Spoken:
    character_id: str
    name: str
    text: str


def chat_who(character_id: str) -> str:
    """The ``who`` under which an NPC's one-on-one upstream chat of a conversation is stored."""
    return f"npc:{character_id}"


RESUMED_ROOM = "npc-room"  # the ``who`` of a room an admin resumed by its id


def room_who(cast_: Sequence[NpcCharacter]) -> str:
    """The ``who`` of a conversation's group room: it names the cast, so a changed cast gets a new room."""
    ids = ",".join(sorted(npc.character_id for npc in cast_))
    return "npc-room:" + hashlib.sha256(ids.encode()).hexdigest()[:12]


async def _drain(queue: asyncio.Queue[ReplyEvent]) -> AsyncIterator[ReplyEvent]:
    while True:
        event = await queue.get()
        yield event
        if event.kind != "snapshot":
            return


async def _one(event: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    yield event


def _error(exc: UpstreamError) -> ReplyError:
    log.warning("NPC turn failed upstream: %s", exc)
    return ReplyError(code=exc.code.value, message=exc.user_message)


class TurnRunner:
    def __init__(self, conversations: ConversationStore, upstreams: Mapping[str, Upstream], memory: NpcMemory) -> None:
        self._conversations = conversations
        self._upstreams = upstreams
        self._memory = memory
        self._infos: dict[str, CharacterInfo] = {}  # the backend's own name and avatar, by character id
        self._room_locks: dict[str, asyncio.Lock] = {}

    def upstream(self, preset: Preset) -> Upstream:
        upstream = self._upstreams.get(preset.backend)
        if upstream is None:
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"backend {preset.backend!r} is not configured")
        return upstream

    def rooms(self, preset: Preset) -> RoomBackend:
        upstream = self.upstream(preset)
        if not isinstance(upstream, RoomBackend):
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"backend {preset.backend!r} has no group rooms")
        return upstream

    # ----- rooms -----

    async def room_id(self, conversation: str, preset: Preset) -> str:
        """The conversation's group room for the preset's cast, created when there is none. A room resumed
        with ``/preset use <name> <room_id>`` wins."""
        async with self._room_locks.setdefault(conversation, asyncio.Lock()):
            resumed = await self._conversations.get_chat_id(conversation, RESUMED_ROOM)
            if resumed is not None:
                return resumed
            who = room_who(preset.npcs)
            room_id = await self._conversations.get_chat_id(conversation, who)
            if room_id is None:
                title = f"{preset.name} ({conversation})"[:64]
                room = await self.rooms(preset).create_room([n.character_id for n in preset.npcs], title, False)
                room_id = room.id
                await self._conversations.set_chat_id(conversation, who, room_id)
                log.info("created group room %s for %s (%s)", room_id, conversation, preset.name)
            return room_id

    # ----- one turn -----

    async def run(self, place: Place, spec: TurnSpec, emit: Emit) -> list[Spoken]:
        """Run the turn, emitting each reply as it starts; returns what was said, in order."""
        if place.room_id is not None:
            return await self._in_room(place, place.room_id, spec, emit)
        spoken: list[Spoken] = []
        for npc in spec.targets:
            speaker = await self._speaker(place.preset, npc)
            said = await self._reply(place, speaker, self._chat_stream(place, npc, spec.text or ""), spec, emit)
            if said is not None:
                spoken.append(said)
        return spoken

    async def _in_room(self, place: Place, room_id: str, spec: TurnSpec, emit: Emit) -> list[Spoken]:
        rooms = self.rooms(place.preset)
        if spec.text is not None:
            try:
                await rooms.room_send(room_id, spec.text)
            except UpstreamError as exc:
                emit(NpcNotice(kind="error", text=_error(exc).message))
                return []
        if not spec.targets:
            said = await self._room_choice(place, rooms.room_generate(room_id, None), spec, emit)
            return [said] if said is not None else []
        spoken: list[Spoken] = []
        for npc in spec.targets:
            speaker = await self._speaker(place.preset, npc)
            said = await self._reply(place, speaker, rooms.room_generate(room_id, npc.character_id), spec, emit)
            if said is not None:
                spoken.append(said)
        return spoken

    async def _chat_stream(self, place: Place, npc: NpcCharacter, text: str) -> ReplyStream:
        upstream = self.upstream(place.preset)
        who = chat_who(npc.character_id)
        chat_id = await self._conversations.get_chat_id(place.conversation, who)
        if chat_id is None:
            chat_id = (await upstream.create_chat(npc.character_id)).chat_id
            await self._conversations.set_chat_id(place.conversation, who, chat_id)
        async for event in upstream.send(chat_id, npc.character_id, text):
            yield event

    async def _reply(
        self, place: Place, speaker: Speaker, stream: ReplyStream, spec: TurnSpec, emit: Emit
    ) -> Spoken | None:
        """Hand out the reply, then feed its events; a reply that started always runs to its end."""
        queue: asyncio.Queue[ReplyEvent] = asyncio.Queue()
        emit(NpcReply(speaker=speaker, events=_drain(queue), scene=spec.scene))
        final: ReplyFinal | None = None
        try:
            async for event in stream:
                if isinstance(event, ReplyFinal):  # remembered before anyone sees the reply as done
                    final = event.model_copy(update={"speaker": speaker.name})
                    await self._remember(place, speaker, final, spec)
                    queue.put_nowait(final)
                elif final is None:
                    queue.put_nowait(event)
        except UpstreamError as exc:
            queue.put_nowait(_error(exc))
            return None
        except Exception:
            log.exception("NPC reply of %s failed", speaker.name)
            queue.put_nowait(INTERNAL)
            return None
        if final is None:
            queue.put_nowait(INTERNAL)  # a stream must end with a final; never leave the reply hanging
            return None
        return Spoken(speaker.character_id, speaker.name, final.text)

    async def _room_choice(self, place: Place, stream: ReplyStream, spec: TurnSpec, emit: Emit) -> Spoken | None:
        """The room picks the speaker, and only its final turn names it: the reply is held until then, so
        it can still be rendered under the right identity from its first character."""
        final: ReplyFinal | None = None
        try:
            async for event in stream:
                if isinstance(event, ReplyFinal) and final is None:
                    final = event
        except UpstreamError as exc:
            emit(NpcNotice(kind="error", text=_error(exc).message))
            return None
        if final is None:
            emit(NpcNotice(kind="error", text=INTERNAL.message))
            return None
        speaker = await self._speaker_named(place.preset, final.speaker)
        final = final.model_copy(update={"speaker": speaker.name})
        await self._remember(place, speaker, final, spec)
        emit(NpcReply(speaker=speaker, events=_one(final), scene=spec.scene))
        return Spoken(speaker.character_id, speaker.name, final.text)

    async def _speaker(self, preset: Preset, npc: NpcCharacter) -> Speaker:
        """The NPC's identity; without an avatar of its own it wears the character's (looked up once)."""
        speaker = speaker_of(npc)
        if speaker.avatar_url is None:
            info = await self._info(preset, npc.character_id)
            if info is not None and info.avatar_url:
                speaker = speaker.model_copy(update={"avatar_url": info.avatar_url})
        return speaker

    async def _speaker_named(self, preset: Preset, name: str | None) -> Speaker:
        npc = by_name(preset.npcs, name)
        if npc is None and name:
            wanted = name.casefold()
            for member in preset.npcs:
                info = await self._info(preset, member.character_id)
                if info is not None and info.name.casefold() == wanted:
                    npc = member
                    break
        return await self._speaker(preset, npc) if npc is not None else Speaker(name=name or "?")

    async def _info(self, preset: Preset, character_id: str) -> CharacterInfo | None:
        """The backend's own name and avatar of a character, cached; None (not cached) when it cannot say."""
        cached = self._infos.get(character_id)
        if cached is not None:
            return cached
        try:
            info = await self.upstream(preset).character_info(character_id)
        except UpstreamError as exc:
            log.info("no character info for %s: %s", character_id, exc)
            return None
        self._infos[character_id] = info
        return info

    async def _remember(self, place: Place, speaker: Speaker, final: ReplyFinal, spec: TurnSpec) -> None:
        if not speaker.character_id:
            return
        await self._memory.set_last_speaker(place.conversation, speaker.character_id)
        who = room_who(place.preset.npcs) if place.room_id is not None else chat_who(speaker.character_id)
        await self._conversations.record_turn(place.conversation, who, spec.user_id, place.preset.name, final.text)
