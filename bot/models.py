"""The normalised data model every adapter, backend and store speaks.

Ids are platform-qualified strings in the Satori style, so one key space serves every platform:
``telegram:-100123`` (a chat), ``telegram:-100123/7`` (forum topic 7 in it), ``discord:<guild>:<channel>``,
``discord:dm:<channel>``, ``http:<groupId>``; users are ``telegram:42``, ``discord:1234``, ``http:alice``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PRESET_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
# The backends registered by name in the composition root (``charbridge.app.BACKENDS``): a preset names one.
BackendName = Literal["characterai"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ReplyTarget(BaseModel):
    """Where and how the reply goes. Serialisable, so it can cross processes with the request.

    ``chat`` and ``thread`` are the platform's own raw ids; ``reply_to`` is the platform message id to
    answer; ``extra`` carries platform specifics (e.g. a Discord interaction token) as plain strings.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str
    chat: str
    thread: str | None = None
    reply_to: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)


class ChatRequest(BaseModel):
    """One incoming user message, normalised from any platform."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str
    conversation_id: str  # platform-qualified chat / channel id, without the thread
    thread_id: str | None = None  # raw thread / forum topic id inside the conversation
    user_id: str  # platform-qualified
    user_name: str
    is_dm: bool
    text: str
    message_id: str  # platform-qualified, unique per platform message
    reply_to_id: str | None = None  # platform-qualified id of the message this one answers
    reply_to_bot: bool = False  # the answered message is the bot's (or one of its characters')
    mentions_bot: bool = False
    command: str | None = None  # "chat", "reset", ... when the message is a bot command
    has_media: bool = False  # it carries a photo, sticker, voice message, file, ... (never passed on)
    edited: bool = False  # an edit of an earlier message (its new text), not a new message
    received_at: datetime = Field(default_factory=utcnow)
    target: ReplyTarget

    @property
    def conversation_key(self) -> str:
        """The most specific key of the place the message was written in (thread included)."""
        return thread_key(self.conversation_id, self.thread_id)

    @property
    def request_id(self) -> str:
        """Deterministic, so a platform's redelivery of one message is recognised as a duplicate."""
        return self.message_id


def thread_key(conversation_id: str, thread_id: str | None) -> str:
    return f"{conversation_id}/{thread_id}" if thread_id else conversation_id


class ReplyRecord(BaseModel):
    """A reply on its way to a platform, as the reply journal (``bot.journal``) keeps it until it ends: where it
    goes, the platform messages written so far, how far it got, and where upstream its text can be found again."""

    model_config = ConfigDict(extra="forbid")

    reply_id: str  # the request it answers (its request_id)
    owner: str  # who writes it and recovers it: one adapter's bot ("telegram:<bot id>", "discord:<user id>")
    run: str  # the bridge run that opened it: a restart recovers only the replies of earlier runs
    conversation: str  # the route: conversation key, who, preset (the upstream chat is looked up from them)
    who: str
    preset: str
    kind: Literal["reply", "regenerate"] = "reply"
    prompt: str = ""  # the user's text sent upstream: finds the answer in the backend's history
    target: ReplyTarget
    render: dict[str, str] = Field(default_factory=dict)  # the adapter's own notes for writing there again
    opened_at: datetime = Field(default_factory=utcnow)
    # progress, rewritten as the reply goes on
    parts: list[str] = Field(default_factory=list)  # the platform messages written, in order (adapter-encoded)
    text: str = ""  # the latest text of the reply seen
    final: bool = False  # ``text`` is how the reply ends (its final text, or the partial text and an error notice)
    attempts: int = 0  # recoveries started


class ReplySnapshot(BaseModel):
    """The whole reply text so far (cumulative, never a delta: a lost snapshot is harmless)."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["snapshot"] = "snapshot"
    text: str


class ReplyFinal(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["final"] = "final"
    text: str
    turn_id: str | None = None
    speaker: str | None = None  # the character's display name, for NPC rendering


class ReplyError(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["error"] = "error"
    code: str  # auth | not_found | rate_limited | filtered | unavailable | timeout | no_preset | ...
    message: str  # short and safe to show to chat users
    retry_after: float | None = None  # seconds, when the backend said how long to wait


ReplyEvent = Annotated[ReplySnapshot | ReplyFinal | ReplyError, Field(discriminator="kind")]


class NpcCharacter(BaseModel):
    """One member of an NPC preset's cast: the upstream character, the name players address it by (and
    that it speaks under), and its avatar."""

    model_config = ConfigDict(extra="forbid")

    character_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=80)
    avatar_url: str | None = None


class Preset(BaseModel):
    """A named bundle: which character on which backend, and how it behaves in a conversation.

    With a non-empty ``npcs`` cast the preset is an NPC preset (see ``bot.npc``): several characters share
    the conversation, each answering when addressed; ``character_id`` is then only the preset's first
    character and the fields after ``npcs`` say how the cast behaves.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=PRESET_NAME_PATTERN)
    backend: BackendName = "characterai"
    character_id: str = Field(default="", description="upstream character id")
    display_name: str | None = None
    avatar_url: str | None = None
    greeting: bool = Field(default=True, description="post the character's greeting when bound")
    trigger: Literal["mention", "all"] = Field(
        default="mention", description="in groups: answer only when addressed, or every message"
    )
    scope: Literal["channel", "user"] = Field(
        default="channel", description="one upstream conversation per channel, or one per user in it"
    )
    pacing: dict[str, float] = Field(default_factory=dict, description="pacing overrides for this preset")
    npcs: list[NpcCharacter] = Field(default_factory=list, description="a cast of characters speaking as NPCs")
    room: bool = Field(default=False, description="NPCs share one Character.AI group room, else one chat each")
    fallback: Literal["room", "last_speaker", "none"] = Field(
        default="last_speaker", description="who answers an NPC-preset message addressed to nobody by name"
    )
    merge_queued: bool = Field(default=False, description="merge messages waiting for a reply into one turn")
    queue_notice_after: float | None = Field(
        default=10.0, ge=0, description="seconds in line before a user is told the message is queued (None: never)"
    )
    scenes: bool = Field(default=False, description="NPCs may answer each other (character-to-character scenes)")
    scene_delay: float = Field(default=3.0, ge=0, description="seconds before an NPC answers another NPC")
    scene_max_turns: int = Field(default=2, ge=0, le=20, description="NPC-to-NPC turns after one user message")


class Binding(BaseModel):
    """A conversation (chat, channel or thread) bound to a preset by an admin."""

    model_config = ConfigDict(extra="forbid")

    conversation: str
    preset: str
    bound_by: str
    bound_at: datetime = Field(default_factory=utcnow)


class AuditEntry(BaseModel):
    """One recorded admin change: who, where, what, when."""

    model_config = ConfigDict(extra="forbid")

    actor: str
    actor_name: str = ""  # the display name at the time, for people reading the history
    conversation: str
    action: str
    detail: str = ""
    at: datetime = Field(default_factory=utcnow)


class ConversationRecord(BaseModel):
    """Activity of one upstream conversation (a chat, or one user's chat in it under per-user scope)."""

    model_config = ConfigDict(extra="forbid")

    conversation: str
    who: str
    user_id: str  # the user who last spoke in it
    preset: str
    message_count: int = 0  # user messages plus character replies
    last_message: str = ""
    updated_at: datetime = Field(default_factory=utcnow)


class Speaker(BaseModel):
    """The identity a reply is rendered under: Discord's webhook name and avatar, Telegram's bold name
    prefix. ``character_id`` is empty when a group room chose a speaker outside the known cast."""

    model_config = ConfigDict(frozen=True)

    name: str
    avatar_url: str | None = None
    character_id: str = ""
