"""Every Redis key of the Redis store, built in one place: the key layout (its version is ``redis_layout``'s).

All keys are under a configurable prefix:
  schema -> the layout version
  preset:{name} -> JSON        presets            (set of names)
  binding:{conversation} -> JSON   bindings       (set of conversations)
  chats:{conversation} -> hash who -> chat id
  conv:{member} -> hash (fields of ConversationRecord), member = JSON [conversation, who]
  convs, convs:in:{conversation}, convs:platform:{platform} -> sorted sets of members by last update
  people:{member} -> set of the user ids who spoke in it
  convs:spoke:{user_id} -> sorted set of the members the user spoke in, by when they last did
  marker:{key} -> "1" with a TTL (SET NX PX); key: the text of a ``bot.keys`` marker key
  value:{key} -> string with a TTL (SET PX); key: the text of a ``bot.keys`` value key
  audit -> list of JSON, newest first, capped;  audit:{conversation} likewise
  reply:{reply_id} -> hash: body (JSON of the ReplyRecord as opened), parts (JSON list), text, final, attempts
  replies:{owner} -> sorted set of the owner's open reply ids, by when they were opened

Data written by earlier releases lives under these very strings: change one only with a migration.
"""

from __future__ import annotations

import json

from bot.keys import MarkerKey, ValueKey


def conversation_member(conversation: str, who: str) -> str:
    """How the layout names one (conversation, who) in its sets and keys."""
    return json.dumps([conversation, who])


def platform_of(conversation: str) -> str:
    """The platform a conversation key belongs to: what stands before its first colon."""
    return conversation.partition(":")[0]


class RedisKeys:
    """The keys under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def schema(self) -> str:
        return self._key("schema")

    # presets and bindings: one JSON string each, and the set of their names
    def preset(self, name: str) -> str:
        return self._key("preset", name)

    @property
    def presets(self) -> str:
        return self._key("presets")

    def binding(self, conversation: str) -> str:
        return self._key("binding", conversation)

    @property
    def bindings(self) -> str:
        return self._key("bindings")

    # upstream chat ids
    def chats(self, conversation: str) -> str:
        return self._key("chats", conversation)

    # conversation records and their indexes (members are ``conversation_member``s)
    def record(self, member: str) -> str:
        return self._key("conv", member)

    @property
    def recent(self) -> str:
        """Every member, by last update."""
        return self._key("convs")

    def recent_in(self, conversation: str) -> str:
        return self._key("convs", "in", conversation)

    def recent_on(self, platform: str) -> str:
        return self._key("convs", "platform", platform)

    def speakers(self, member: str) -> str:
        return self._key("people", member)

    def spoken_in(self, user_id: str) -> str:
        """The members the user spoke in, by when they last did."""
        return self._key("convs", "spoke", user_id)

    def last_spoken_v0(self, user_id: str) -> str:
        """Layout version 0's index of the members whose last speaker the user was (retired by migration 1)."""
        return self._key("convs", "user", user_id)

    # markers and values with a lifetime
    def marker(self, key: MarkerKey) -> str:
        return self._key("marker", key.text)

    def value(self, key: ValueKey) -> str:
        return self._key("value", key.text)

    # audit log
    @property
    def audit(self) -> str:
        return self._key("audit")

    def audit_of(self, conversation: str) -> str:
        return self._key("audit", conversation)

    # the reply journal
    def reply(self, reply_id: str) -> str:
        return self._key("reply", reply_id)

    def replies_of(self, owner: str) -> str:
        return self._key("replies", owner)
