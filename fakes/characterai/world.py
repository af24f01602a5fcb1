"""The fake's shared state and the operations both the REST and the websocket handlers use."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Coroutine
from typing import Any, Literal

from pydantic import BaseModel

from fakes.characterai.characters import FakeCharacter
from fakes.characterai.dm_links import DmLink
from fakes.characterai.faults import Fault, FaultBook
from fakes.characterai.room_hub import RoomHub
from fakes.characterai.settings import FakeSettings
from fakes.characterai.state import MODEL_TYPE, Candidate, Conversation, FakeUser, Room, Turn
from fakes.characterai.wire import Clock, IdFactory, JsonDict, sub_dict, text_or_none, utc_now

Channel = Literal["dm", "room", "rest"]


class ReceivedMessage(BaseModel):
    """One thing a client sent: a websocket command (the whole frame) or a REST call."""

    channel: Channel
    user_id: int | None
    command: str | None  # websocket command / Centrifugo method / "METHOD /path" for REST
    frame: Any = None  # the decoded JSON frame or REST body


def filler_text(length: int) -> str:
    """Deterministic text of exactly ``length`` characters, for length-limit tests."""
    pattern = "The quick brown fox jumps over the lazy dog. "
    return (pattern * (length // len(pattern) + 1))[:length]


class FakeWorld:
    def __init__(
        self,
        characters: list[FakeCharacter],
        users: dict[str, FakeUser],
        settings: FakeSettings,
        seed: int | None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.ids = IdFactory(seed)
        self.clock = clock
        self.characters: dict[str, FakeCharacter] = {c.id: c for c in characters}
        self.users_by_token: dict[str, FakeUser] = dict(users)
        self.conversations: dict[str, Conversation] = {}
        self.rooms: dict[str, Room] = {}
        self.scripts: dict[str, deque[str]] = {}
        self.faults = FaultBook()
        self.counters: Counter[str] = Counter()
        self.received: list[ReceivedMessage] = []
        self.stalls_released = asyncio.Event()
        self.release_epoch = 0  # how many times release_stalls() was called
        self.stopping = False
        self.hub = RoomHub()
        self.dm_links: list[DmLink] = []
        self._background: set[asyncio.Task[None]] = set()
        self._generations: dict[int, deque[float]] = {}
        self._user_settings: dict[int, JsonDict] = {}

    # ----- accounts and logging -----

    @property
    def users(self) -> dict[int, FakeUser]:
        return {u.user_id: u for u in self.users_by_token.values()}

    def user_for_token(self, token: str | None) -> FakeUser | None:
        return self.users_by_token.get(token) if token else None

    def settings_of(self, user: FakeUser) -> JsonDict:
        """The mutable ``/chat/user/settings/`` object of a user."""
        return self._user_settings.setdefault(
            user.user_id, {"default_persona_id": "", "personaOverrides": {}, "voiceOverrides": {}}
        )

    def record(self, channel: Channel, user: FakeUser | None, command: str | None, frame: Any) -> None:
        self.received.append(
            ReceivedMessage(
                channel=channel, user_id=user.user_id if user else None, command=command, frame=frame
            )
        )
        if command:
            self.counters[f"{channel}:{command}"] += 1

    def release_stalls(self) -> None:
        """Wake every stalled stream (they end without a final frame) and every held generation; later stalls
        and holds still wait."""
        self.release_epoch += 1
        self.stalls_released.set()
        self.stalls_released.clear()

    async def wait_release(self, since: int) -> None:
        """Until release_stalls() is called after the moment ``since`` (a ``release_epoch`` value) was read."""
        while self.release_epoch <= since and not self.stopping:
            await self.stalls_released.wait()

    def take_ws_fault(self, channel: Literal["dm", "room"], command: str, chat_id: str | None) -> Fault | None:
        """The fault for this websocket request, if one is queued (armed now, for ``wait_for_release``)."""
        fault = self.faults.take_ws(channel, command, chat_id)
        return fault.arm(self.release_epoch) if fault is not None else None

    async def hold_fault(self, fault: Fault) -> None:
        """A ``wait_for_release`` fault acts only after a release_stalls() that came after it was taken."""
        if fault.wait_for_release:
            await self.wait_release(fault.armed_at)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Server-side work that outlives the request's socket (cancelled when the fake stops)."""
        if self.stopping:
            work.close()
            return
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop_background(self) -> None:
        self.stopping = True
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def open_dm_link(self, user: FakeUser) -> DmLink:
        link = DmLink(len(self.dm_links) + 1, user.user_id, self.counters)
        self.dm_links.append(link)
        return link

    # ----- replies -----

    def script_reply(self, character_id: str, text: str) -> None:
        self.scripts.setdefault(character_id, deque()).append(text)

    def reply_text(self, character: FakeCharacter, prompt: str, variant: int) -> str:
        queued = self.scripts.get(character.id)
        if queued:
            return queued.popleft()
        return character.reply_to(prompt, variant)

    def rate_limited(self, user: FakeUser) -> float | None:
        """Seconds to wait when the user is over the generation limit, else None (and count this one)."""
        limit = self.settings.rate_limit_count
        if limit is None:
            return None
        now = time.monotonic()
        window = self.settings.rate_limit_window
        stamps = self._generations.setdefault(user.user_id, deque())
        while stamps and now - stamps[0] >= window:
            stamps.popleft()
        if len(stamps) >= limit:
            return round(window - (now - stamps[0]), 3)
        stamps.append(now)
        return None

    def generation_mode(self) -> JsonDict:
        return {"mode": "MODE_NORMAL", "remaining_quota_frac": self.settings.remaining_quota_frac}

    def stream_settings(self, character: FakeCharacter) -> tuple[int, float]:
        chunk = character.chunk_chars or self.settings.chunk_chars
        delay = character.snapshot_delay if character.snapshot_delay is not None else self.settings.snapshot_delay
        return chunk, delay

    # ----- chats and turns -----

    def create_dm(self, user: FakeUser, chat_id: str, character_id: str, model_type: str | None) -> Conversation:
        conversation = Conversation(
            chat_id=chat_id,
            kind="dm",
            creator_id=user.user_id,
            create_time=self.clock(),
            character_id=character_id,
            preferred_model_type=model_type or "MODEL_TYPE_SMART",
        )
        self.conversations[chat_id] = conversation
        return conversation

    def add_character_turn(
        self, conversation: Conversation, character: FakeCharacter, text: str, prompt: str
    ) -> tuple[Turn, Candidate]:
        now = self.clock()
        candidate = Candidate(self.ids.uuid(), text, now, model_type=MODEL_TYPE)
        turn = Turn(
            chat_id=conversation.chat_id,
            turn_id=self.ids.uuid(),
            author_id=character.id,
            author_name=character.name,
            is_human=False,
            create_time=now,
            last_update_time=now,
            candidates=[candidate],
            primary_candidate_id=candidate.candidate_id,
            prompt=prompt,
            character_id=character.id,
        )
        conversation.turns.append(turn)
        return turn, candidate

    def add_human_turn(self, conversation: Conversation, user: FakeUser, turn_payload: JsonDict) -> Turn:
        """Store a user turn from a client ``turn`` object, filling what minimal clients leave out."""
        key = sub_dict(turn_payload, "turn_key")
        author = sub_dict(turn_payload, "author")
        raw_candidates = turn_payload.get("candidates")
        first: JsonDict = raw_candidates[0] if isinstance(raw_candidates, list) and raw_candidates else {}
        now = self.clock()
        candidate = Candidate(
            candidate_id=text_or_none(first.get("candidate_id")) or self.ids.uuid(),
            raw_content=str(first.get("raw_content") or ""),
            create_time=now,
            tti_image_rel_path=text_or_none(first.get("tti_image_rel_path")),
        )
        turn = Turn(
            chat_id=conversation.chat_id,
            turn_id=text_or_none(key.get("turn_id")) or self.ids.uuid(),
            author_id=str(user.user_id),
            author_name=text_or_none(author.get("name")) or user.name,
            is_human=True,
            create_time=now,
            last_update_time=now,
            candidates=[candidate],
            primary_candidate_id=candidate.candidate_id,
            context_reset=bool(turn_payload.get("context_reset", False)),
        )
        conversation.turns.append(turn)
        return turn

    def last_human_text(self, conversation: Conversation) -> str:
        for turn in reversed(conversation.turns):
            if turn.is_human:
                return turn.text()
        return ""

    def chats_of(self, user: FakeUser, character_id: str | None = None) -> list[Conversation]:
        chats = [
            c
            for c in self.conversations.values()
            if c.kind == "dm" and c.creator_id == user.user_id and character_id in (None, c.character_id)
        ]
        return sorted(chats, key=lambda c: c.last_activity(), reverse=True)

    def copy_chat(self, source: Conversation, end_turn_id: str | None) -> Conversation:
        copy = Conversation(
            chat_id=self.ids.uuid(),
            kind="dm",
            creator_id=source.creator_id,
            create_time=self.clock(),
            character_id=source.character_id,
            preferred_model_type=source.preferred_model_type,
        )
        for turn in source.turns:
            copy.turns.append(
                Turn(
                    chat_id=copy.chat_id,
                    turn_id=self.ids.uuid(),
                    author_id=turn.author_id,
                    author_name=turn.author_name,
                    is_human=turn.is_human,
                    create_time=turn.create_time,
                    last_update_time=turn.last_update_time,
                    candidates=[
                        Candidate(c.candidate_id, c.raw_content, c.create_time, c.model_type)
                        for c in turn.candidates
                    ],
                    primary_candidate_id=turn.primary_candidate_id,
                    prompt=turn.prompt,
                    character_id=turn.character_id,
                )
            )
            if turn.turn_id == end_turn_id:
                break
        self.conversations[copy.chat_id] = copy
        return copy

    # ----- rooms -----

    def create_room(
        self, user: FakeUser, character_ids: list[str], title: str, visibility: str, settings: JsonDict
    ) -> Room:
        room = Room(
            room_id=self.ids.uuid(),
            title=title,
            character_ids=list(character_ids),
            member_ids=[user.user_id],
            created=self.clock(),
            visibility=visibility,
            join_token=self.ids.short(),
            settings=settings,
        )
        self.rooms[room.room_id] = room
        self.conversations[room.room_id] = Conversation(
            chat_id=room.room_id, kind="room", creator_id=user.user_id, create_time=room.created
        )
        return room

    def room_speaker(self, room: Room, conversation: Conversation, requested: str | None) -> FakeCharacter:
        """Who answers a room ``generate_turn``: the requested character, else one named in the last user
        message, else the next one in turn (deterministic)."""
        present = [self.characters[c] for c in room.character_ids if c in self.characters]
        if requested and requested in self.characters:
            return self.characters[requested]
        last = self.last_human_text(conversation).lower()
        for character in present:
            if character.name.lower() in last:
                return character
        return present[conversation.generation_count % len(present)]
