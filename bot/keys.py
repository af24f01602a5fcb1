"""The keys of markers and short-lived values (``bot.ports.MarkerStore``), built in one place.

Each kind of key is a frozen dataclass; its ``text`` is what the stores file it under. That text is part of the
stored data (SQLite rows, Redis keys written by earlier releases), so changing a layout here orphans what is
stored under the old one. Markers and values take different kinds, so a value cannot be read by a marker's key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seen:
    """A platform message already taken in (dedupe of redeliveries): ``seen:{request_id}``."""

    request_id: str  # ``ChatRequest.request_id``

    @property
    def text(self) -> str:
        return f"seen:{self.request_id}"


@dataclass(frozen=True)
class Notice:
    """A notice an adapter gives at most once a while in a place: ``{platform}:notice:{reason}:{place}``
    (Discord tells a channel's admins once a week that its webhooks are unavailable)."""

    platform: str
    reason: str
    place: str  # the platform's id of where the notice is given (a channel, ...)

    @property
    def text(self) -> str:
        return f"{self.platform}:notice:{self.reason}:{self.place}"


@dataclass(frozen=True)
class LastNpcSpeaker:
    """The character id of the NPC that spoke last in a conversation: ``npc:last:{conversation}``."""

    conversation: str

    @property
    def text(self) -> str:
        return f"npc:last:{self.conversation}"


@dataclass(frozen=True)
class NpcAuthor:
    """The character id of the NPC that wrote a platform message: ``npc:msg:{message_id}`` (a platform-qualified
    message id)."""

    message_id: str

    @property
    def text(self) -> str:
        return f"npc:msg:{self.message_id}"


MarkerKey = Seen | Notice
ValueKey = LastNpcSpeaker | NpcAuthor
