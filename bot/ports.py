"""The infrastructure ports. Each has an embedded implementation (the default) and a Redis one.

Durable state is split by concern into narrow ports, so each part of the core takes only what it touches:

  PresetStore        presets made by admins                    (tests/core/contracts/test_presets.py)
  BindingStore       conversation key -> preset                (test_bindings.py)
  ChatIdStore        (conversation, who) -> upstream chat id   (test_chat_ids.py)
  ConversationStore  the chat ids plus conversation records    (test_conversations.py)
  MarkerStore        markers and short-lived values            (test_markers.py)
  AuditLog           admin changes, newest first               (test_audit_log.py)
  ReplyJournal       replies being written, until they end     (test_reply_journal.py)

``StateStore`` is all of them in one store (``bot.store.sqlite``, ``bot.store.redis``); ``RoomQueue`` serialises
work per upstream chat. The application picks one implementation per port at start-up (``charbridge.app``);
nothing else knows which.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.keys import MarkerKey, ValueKey
from bot.models import AuditEntry, Binding, ConversationRecord, Preset, ReplyRecord

T = TypeVar("T")

# The "who" of a channel-scoped upstream chat: one chat for everybody in the conversation.
EVERYONE = "*"


class StoreError(Exception):
    """The store cannot open its data; the message says why in one line (and holds no secret)."""


class StoreVersionError(StoreError):
    """The stored data has a layout newer than this release knows (written by a later charbridge)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached now: Redis refused the connection or timed out, SQLite's file is locked or
    failing. Every store raises this one error for that (``bot.store.reachability``), whatever its engine says;
    it may pass by itself, so callers answer "temporarily unavailable" rather than fail."""


class PresetStore(ABC):
    """Presets made by admins (file presets live in the config and are merged by ``bot.presets``)."""

    @abstractmethod
    async def get_preset(self, name: str) -> Preset | None: ...

    @abstractmethod
    async def put_preset(self, preset: Preset) -> None: ...

    @abstractmethod
    async def delete_preset(self, name: str) -> bool: ...

    @abstractmethod
    async def list_presets(self) -> list[Preset]:
        """By name."""


class BindingStore(ABC):
    """Which preset answers a conversation: conversation key -> binding."""

    @abstractmethod
    async def get_binding(self, conversation: str) -> Binding | None: ...

    @abstractmethod
    async def put_binding(self, binding: Binding) -> None: ...

    @abstractmethod
    async def delete_binding(self, conversation: str) -> bool: ...

    @abstractmethod
    async def list_bindings(self) -> list[Binding]:
        """By conversation key."""


class ChatIdStore(ABC):
    """Upstream chat ids: (conversation key, who) -> chat id; who is EVERYONE or a user id (or a label of the
    NPC service's, for its rooms and one-on-one chats)."""

    @abstractmethod
    async def get_chat_id(self, conversation: str, who: str) -> str | None: ...

    @abstractmethod
    async def set_chat_id(self, conversation: str, who: str, chat_id: str) -> None: ...

    @abstractmethod
    async def clear_chat_ids(self, conversation: str) -> int:
        """Forget every upstream chat of a conversation (all users); returns how many were dropped."""

    @abstractmethod
    async def list_chat_ids(self, conversation: str) -> dict[str, str]: ...


class ConversationStore(ChatIdStore):
    """The upstream chat ids and the activity of each (conversation, who): its record and who spoke in it.
    One port, because forgetting a conversation forgets its chat id with it."""

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


class MarkerStore(ABC):
    """Markers (dedupe, once-a-while notices) and small values with a lifetime (NPC speakers and the platform
    messages they wrote), under the typed keys of ``bot.keys``."""

    @abstractmethod
    async def mark_once(self, key: MarkerKey, ttl_seconds: float) -> bool:
        """Set a marker unless it exists; True when this call set it. Markers expire after the ttl."""

    @abstractmethod
    async def put_value(self, key: ValueKey, value: str, ttl_seconds: float) -> None:
        """Store ``value`` under ``key`` (replacing any); it expires after the ttl."""

    @abstractmethod
    async def get_value(self, key: ValueKey) -> str | None:
        """The value under ``key``, or None when there is none or it expired."""


class AuditLog(ABC):
    """Who changed what (admin commands, bindings made through the HTTP API)."""

    @abstractmethod
    async def append_audit(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    async def list_audit(self, limit: int = 20, conversation: str | None = None) -> list[AuditEntry]:
        """Newest first; ``conversation`` keeps that conversation's entries."""


class ReplyJournal(ABC):
    """Replies on their way to a platform, from before the first message is written until the reply ends, so a
    restart can finish those a crash cut short (``bot.journal``). An entry exists while its reply is open;
    closing removes it. Every call is one atomic step: it is done (and kept) when it returns."""

    @abstractmethod
    async def open_reply(self, record: ReplyRecord) -> None:
        """Keep a new entry (replacing an entry of the same id)."""

    @abstractmethod
    async def note_reply(self, reply_id: str, parts: list[str], text: str, final: bool) -> bool:
        """Rewrite an open entry's progress; False (and nothing kept) when it is closed or unknown."""

    @abstractmethod
    async def claim_reply(self, reply_id: str) -> ReplyRecord | None:
        """Count one more recovery attempt of an open entry and return it as it is now (None when closed)."""

    @abstractmethod
    async def close_reply(self, reply_id: str) -> bool:
        """Close an entry; True for the one call that closed it, False when it was closed already."""

    @abstractmethod
    async def open_replies(self, owner: str) -> list[ReplyRecord]:
        """The open entries an owner wrote, oldest first."""


class StateStore(PresetStore, BindingStore, ConversationStore, MarkerStore, AuditLog, ReplyJournal):
    """All the durable state in one store; the core's parts each take the narrow ports they use.

    The stored layout is versioned: opening a store brings data written by an earlier release up to date (its
    migrations) before it serves anything, and refuses data newer than it knows (StoreVersionError)."""

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
