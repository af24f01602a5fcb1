"""World state of the fake: users, bots, chats, members, forum topics and stored messages.

Serialisation to Bot API JSON lives next to each type (``to_api``). Private chats are per (bot, user):
Telegram gives them the user's id as chat id for every bot, but each bot has its own conversation.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .updates import UpdateQueue

ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
ChatKey = tuple[int, int]  # (owning bot id for private chats else 0, chat id)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotAccount:
    token: str
    user: User
    privacy: bool = True  # True = group privacy mode on (can_read_all_group_messages false)
    can_join_groups: bool = True
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    started_by: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    webhook: Webhook | None = None
    queue: UpdateQueue = field(default_factory=UpdateQueue)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username or ""

    def get_me(self) -> dict[str, Any]:
        return {
            **self.user.to_api(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": not self.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    bot_id: int = 0  # the bot owning this private chat; 0 for groups
    members: dict[int, MemberStatus] = field(default_factory=dict)
    topics: dict[int, str] = field(default_factory=dict)
    next_message_id: int = 1
    peer: User | None = None  # the user of a private chat
    last_bot_sender: int | None = None  # privacy mode: bare /commands go to the last bot that wrote

    @property
    def key(self) -> ChatKey:
        return (self.bot_id, self.id)

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.peer is not None:
            data["first_name"] = self.peer.first_name
            if self.peer.last_name:
                data["last_name"] = self.peer.last_name
            if self.peer.username:
                data["username"] = self.peer.username
        else:
            data["title"] = self.title or ""
            if self.username:
                data["username"] = self.username
            if self.is_forum:
                data["is_forum"] = True
        return data

    def to_full_info(self) -> dict[str, Any]:
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def status_of(self, user_id: int) -> MemberStatus:
        return self.members.get(user_id, "left")

    def is_member(self, user_id: int) -> bool:
        return self.status_of(user_id) in ("creator", "administrator", "member")


@dataclass(frozen=True)
class Revision:
    """One version of a message's content. ``t`` is time.monotonic() (for pacing), ``date`` unix time."""

    t: float
    date: int
    text: str
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None


@dataclass
class StoredMessage:
    chat: Chat
    message_id: int
    sender: User
    versions: list[Revision]
    reply_to: StoredMessage | None = None
    thread_id: int | None = None
    is_topic_message: bool = False
    deleted: bool = False
    service: dict[str, Any] | None = None  # e.g. {"forum_topic_created": {...}}

    @property
    def text(self) -> str:
        return self.versions[-1].text

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.versions[-1].entities)

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.versions[-1].reply_markup

    @property
    def edits(self) -> list[Revision]:
        """Every version after the first, oldest first."""
        return self.versions[1:]

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    def to_api(self, *, nested: bool = False) -> dict[str, Any]:
        first, last = self.versions[0], self.versions[-1]
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": first.date,
        }
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
        if self.is_topic_message:
            data["is_topic_message"] = True
        if self.service is not None:
            data.update(self.service)
        else:
            data["text"] = last.text
            if last.entities:
                data["entities"] = list(last.entities)
        if len(self.versions) > 1:
            data["edit_date"] = last.date
        if last.reply_markup is not None:
            data["reply_markup"] = last.reply_markup
        if self.reply_to is not None and not nested:
            data["reply_to_message"] = self.reply_to.to_api(nested=True)
        return data


def scope_key(scope: dict[str, Any] | None) -> str:
    """Canonical key of a BotCommandScope (``None`` is the default scope)."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def now_revision(text: str, entities: list[dict[str, Any]], reply_markup: dict[str, Any] | None) -> Revision:
    return Revision(time.monotonic(), int(time.time()), text, tuple(entities), reply_markup)


class World:
    """Registry of everything that exists in the fake Telegram."""

    def __init__(self) -> None:
        self.bots_by_token: dict[str, BotAccount] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[ChatKey, Chat] = {}
        self.messages: dict[tuple[ChatKey, int], StoredMessage] = {}
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._supergroup_ids = itertools.count(1_000_000_001)

    def next_user_id(self) -> int:
        user_id = next(self._user_ids)
        while user_id in self.users:
            user_id = next(self._user_ids)
        return user_id

    def next_group_id(self, supergroup: bool) -> int:
        if supergroup:
            return -1_000_000_000_000 - next(self._supergroup_ids)
        return -4_000_000_000 - next(self._group_ids)

    def bot_by_id(self, bot_id: int) -> BotAccount | None:
        return next((bot for bot in self.bots_by_token.values() if bot.id == bot_id), None)

    def bot_for_user(self, user: User) -> BotAccount | None:
        return self.bot_by_id(user.id) if user.is_bot else None

    def group(self, chat_id: int) -> Chat | None:
        return self.chats.get((0, chat_id))

    def find_public_chat(self, username: str) -> Chat | None:
        wanted = username.removeprefix("@").lower()
        return next(
            (chat for chat in self.chats.values() if chat.username and chat.username.lower() == wanted), None
        )

    def message(self, chat: Chat, message_id: int) -> StoredMessage | None:
        return self.messages.get((chat.key, message_id))

    def store(self, message: StoredMessage) -> StoredMessage:
        self.messages[(message.chat.key, message.message_id)] = message
        return message

    def messages_in(self, chat: Chat) -> list[StoredMessage]:
        found = [message for (key, _), message in self.messages.items() if key == chat.key]
        return sorted(found, key=lambda message: message.message_id)
