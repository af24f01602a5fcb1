"""The interface every character backend implements: what it can do (``Capabilities``), the operations every
backend has (``Upstream``), the group-room operations of those that declare rooms (``GroupRooms``), and the
typed errors. The core reads a backend's capabilities and adapts; it never asks which backend it talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol, cast

from pydantic import BaseModel, ConfigDict

from bot.models import ReplyFinal, ReplySnapshot


class ErrorCode(StrEnum):
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    FILTERED = "filtered"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    INVALID = "invalid"
    MODEL = "model_error"  # the service is up but the model failed to produce this reply
    UNSUPPORTED = "unsupported"  # the backend cannot do this at all (its capabilities say so)


# What chat users see. Operators get details in the log instead; nothing here may contain a secret.
USER_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.AUTH: "The character is unavailable right now.",
    ErrorCode.NOT_FOUND: "That character or conversation could not be found.",
    ErrorCode.RATE_LIMITED: "The character is getting too many messages; please try again in a moment.",
    ErrorCode.FILTERED: "The character could not answer that message (it was filtered).",
    ErrorCode.UNAVAILABLE: "The character is unavailable right now.",
    ErrorCode.TIMEOUT: "The character took too long to answer; please try again.",
    ErrorCode.INVALID: "The character could not take that message.",
    ErrorCode.MODEL: "The character could not answer that message; please try again.",
    ErrorCode.UNSUPPORTED: "The character cannot do that here.",
}


class UpstreamError(Exception):
    """A backend failure with a code that maps to a user-facing text. ``detail`` is for the operator log
    and must never contain a token."""

    def __init__(self, code: ErrorCode, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.detail = detail
        self.retry_after = retry_after

    @property
    def user_message(self) -> str:
        return USER_MESSAGES[self.code]


class Capabilities(BaseModel):
    """What a backend can do, declared once by each backend; the service adapts to it. Every field must be
    stated, so a new backend says what it does rather than inheriting a guess."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    streams: bool  # replies grow in snapshots before the final (else the final comes alone)
    regenerate: bool  # another candidate for the last reply (``Upstream.regenerate``)
    edit_turns: bool  # turns can be edited or deleted upstream (the operations come with issue 21)
    group_rooms: bool  # several characters in one upstream room: the backend implements ``GroupRooms``
    greetings: bool  # characters have a greeting, and a new chat opens with it
    # "upstream": the service stores the conversation and ``Upstream.history`` reads it back; "bridge": the
    # backend is stateless (an LLM server), so the bridge keeps what was said.
    history: Literal["upstream", "bridge"]


class CharacterInfo(BaseModel):
    id: str
    name: str
    avatar_url: str | None = None
    greeting: str | None = None


class NewChat(BaseModel):
    chat_id: str
    greeting: str | None = None  # the text of the greeting turn, when the character has one


class NewRoom(BaseModel):
    room_id: str


class HistoryTurn(BaseModel):
    turn_id: str
    author_name: str
    is_human: bool
    text: str
    created_at: datetime | None = None
    final: bool = True  # False while the backend is still generating the turn


ReplyStream = AsyncIterator[ReplySnapshot | ReplyFinal]


class Upstream(Protocol):
    """A character backend. ``send``/``regenerate`` yield cumulative snapshots and end with exactly one
    ``ReplyFinal``; failures raise ``UpstreamError`` (when the stream is made or while it is read).
    ``regenerate`` and ``history`` are only called as ``capabilities`` allow."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def start(self) -> None:
        """Connect and validate credentials; raise UpstreamError(AUTH) with an operator-readable detail."""

    async def close(self) -> None: ...

    async def character_info(self, character_id: str) -> CharacterInfo: ...

    async def create_chat(self, character_id: str) -> NewChat: ...

    def send(self, chat_id: str, character_id: str, text: str) -> ReplyStream: ...

    def regenerate(self, chat_id: str, character_id: str) -> ReplyStream: ...

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]: ...


class GroupRooms(Protocol):
    """The group-room operations, implemented by a backend that declares ``group_rooms``. The caller keeps a
    room's operations one at a time (the room queue)."""

    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> NewRoom: ...

    async def room_send(self, room_id: str, text: str) -> None:
        """Post a user's turn to the room without asking anyone to answer it."""

    def room_generate(self, room_id: str, character_id: str | None = None) -> ReplyStream:
        """The next turn, by ``character_id`` or (None) by whoever the room picks; the final names them."""


def group_rooms(upstream: Upstream) -> GroupRooms | None:
    """The backend's group rooms when it declares them (a declaring backend implements ``GroupRooms``)."""
    return cast(GroupRooms, upstream) if upstream.capabilities.group_rooms else None
