"""The infrastructure ports. Each has an embedded implementation (the default) and a Redis one.

The application picks one implementation per port at start-up (``charbridge.app``); nothing else knows which.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.models import AuditEntry, Binding, ConversationRecord, Preset

T = TypeVar("T")

# The "who" of a channel-scoped upstream chat: one chat for everybody in the conversation.
EVERYONE = "*"


class StoreError(Exception):
    """The store cannot open its data; the message says why in one line (and holds no secret)."""


class StoreVersionError(StoreError):
    """The stored data has a layout newer than this release knows (written by a later charbridge)."""


class StateStore(ABC):
    """Durable state: presets made by admins, bindings, upstream chat ids, dedupe markers, the audit log.

    The stored layout is versioned: opening a store brings data written by an earlier release up to date (its
    migrations) before it serves anything, and refuses data newer than it knows (StoreVersionError)."""

    # presets (admin-made; file presets live in the config and are merged by the preset catalog)
    @abstractmethod
    async def get_preset(self, name: str) -> Preset | None: ...

    @abstractmethod
    async def put_preset(self, preset: Preset) -> None: ...

    @abstractmethod
    async def delete_preset(self, name: str) -> bool: ...

    @abstractmethod
    async def list_presets(self) -> list[Preset]: ...

    # bindings: conversation key -> preset
    @abstractmethod
    async def get_binding(self, conversation: str) -> Binding | None: ...

    @abstractmethod
    async def put_binding(self, binding: Binding) -> None: ...

    @abstractmethod
    async def delete_binding(self, conversation: str) -> bool: ...

    @abstractmethod
    async def list_bindings(self) -> list[Binding]: ...

    # upstream chat ids: (conversation key, who) -> chat id; who is EVERYONE or a user id
    @abstractmethod
    async def get_chat_id(self, conversation: str, who: str) -> str | None: ...

    @abstractmethod
    async def set_chat_id(self, conversation: str, who: str, chat_id: str) -> None: ...

    @abstractmethod
    async def clear_chat_ids(self, conversation: str) -> int:
        """Forget every upstream chat of a conversation (all users); returns how many were dropped."""

    @abstractmethod
    async def list_chat_ids(self, conversation: str) -> dict[str, str]: ...

    # conversation activity
    @abstractmethod
    async def record_turn(self, conversation: str, who: str, user_id: str, preset: str, last_message: str) -> None:
        """Count one exchange (a user message and the reply), remember the last message and its speaker, and
        add the speaker to the conversation's participants."""

    @abstractmethod
    async def get_conversation(self, conversation: str, who: str) -> ConversationRecord | None: ...

    @abstractmethod
    async def list_conversations(
        self,
        user_id: str | None = None,
        conversation: str | None = None,
        limit: int = 20,
        offset: int = 0,
        platform: str | None = None,
    ) -> tuple[list[ConversationRecord], int]:
        """Most recently updated first (by anyone), with the total. Filters combine: ``user_id`` keeps the
        conversations that user has spoken in (not only those they spoke in last), ``conversation`` the records
        of that conversation key, ``platform`` the keys before whose first colon it stands."""

    @abstractmethod
    async def delete_conversation(self, conversation: str, who: str) -> bool:
        """Forget a conversation's record, its participants and its upstream chat id."""

    # dedupe markers
    @abstractmethod
    async def mark_once(self, key: str, ttl_seconds: float) -> bool:
        """Set a marker unless it exists; True when this call set it. Markers expire after the ttl."""

    # small values with a lifetime (NPC speakers and the platform messages they wrote, ...)
    @abstractmethod
    async def put_value(self, key: str, value: str, ttl_seconds: float) -> None:
        """Store ``value`` under ``key`` (replacing any); it expires after the ttl."""

    @abstractmethod
    async def get_value(self, key: str) -> str | None:
        """The value under ``key``, or None when there is none or it expired."""

    # audit log
    @abstractmethod
    async def append_audit(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    async def list_audit(self, limit: int = 20, conversation: str | None = None) -> list[AuditEntry]:
        """Newest first."""

    @abstractmethod
    async def close(self) -> None: ...


class RoomQueue(ABC):
    """Serialises work per upstream room/chat: one job at a time per room, in arrival order;
    different rooms run concurrently."""

    @abstractmethod
    async def run(self, room: str, job: Callable[[], Awaitable[T]]) -> T:
        """Queue ``job`` behind the room's earlier jobs, run it, and return (or raise) its result."""

    @abstractmethod
    def pending(self, room: str) -> int:
        """Jobs queued or running for the room (lets adapters tell users that they are queued)."""

    @abstractmethod
    async def close(self) -> None: ...
