"""How the API's userId / groupId map onto the core's platform-qualified keys, and the opaque conversationId.

- user ``alice`` is ``http:alice``;
- group ``team-1`` is the conversation ``http:team-1``; without a group, alice's private conversation is
  ``http:dm:alice`` (a DM);
- a conversationId is the unpadded base64url of ``{"c": <conversation key>, "w": <who>}`` (compact JSON), where
  ``who`` is the store's: ``*`` for a chat shared by the whole conversation, else a user key (per-user presets
  in groups). Only the canonical encoding of an ``http:`` conversation is accepted.
"""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.http.schemas import CONVERSATION_ID_PATTERN

PLATFORM = "http"
PREFIX = f"{PLATFORM}:"
DM_PREFIX = f"{PLATFORM}:dm:"


def user_key(user_id: str) -> str:
    return PREFIX + user_id


def group_conversation(group_id: str) -> str:
    return PREFIX + group_id


def conversation_key(user_id: str, group_id: str | None) -> str:
    return group_conversation(group_id) if group_id is not None else DM_PREFIX + user_id


def external_user(key: str) -> str | None:
    """``http:alice`` -> ``alice``; None for anything that is not an HTTP API user."""
    return key.removeprefix(PREFIX) if key.startswith(PREFIX) else None


def dm_user(conversation: str) -> str | None:
    return conversation.removeprefix(DM_PREFIX) if conversation.startswith(DM_PREFIX) else None


def group_of(conversation: str) -> str | None:
    if conversation.startswith(DM_PREFIX) or not conversation.startswith(PREFIX):
        return None
    return conversation.removeprefix(PREFIX)


class ConversationRef(BaseModel):
    """One upstream conversation as the store knows it: (conversation key, who)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)

    conversation: str = Field(validation_alias="c", serialization_alias="c", min_length=len(PREFIX) + 1)
    who: str = Field(validation_alias="w", serialization_alias="w", min_length=1)

    @property
    def id(self) -> str:
        raw = self.model_dump_json(by_alias=True).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode_conversation_id(conversation: str, who: str) -> str:
    return ConversationRef(conversation=conversation, who=who).id


def decode_conversation_id(text: str) -> ConversationRef | None:
    """The conversation behind an id, or None when the id is not one this API gave out."""
    if not re.fullmatch(CONVERSATION_ID_PATTERN, text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        ref = ConversationRef.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        return None
    if not ref.conversation.startswith(PREFIX) or ref.id != text:
        return None
    return ref
