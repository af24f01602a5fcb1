"""The interface every character backend implements, and its typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel

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


class CharacterInfo(BaseModel):
    id: str
    name: str
    avatar_url: str | None = None
    greeting: str | None = None


class NewChat(BaseModel):
    chat_id: str
    greeting: str | None = None  # the text of the greeting turn, when the character has one


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
    ``ReplyFinal``; failures raise ``UpstreamError``."""

    name: str

    async def start(self) -> None:
        """Connect and validate credentials; raise UpstreamError(AUTH) with an operator-readable detail."""

    async def close(self) -> None: ...

    async def character_info(self, character_id: str) -> CharacterInfo: ...

    async def create_chat(self, character_id: str) -> NewChat: ...

    def send(self, chat_id: str, character_id: str, text: str) -> ReplyStream: ...

    def regenerate(self, chat_id: str, character_id: str) -> ReplyStream: ...

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]: ...
