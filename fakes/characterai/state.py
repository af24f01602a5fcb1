"""The fake's in-memory world: users, chats, rooms, turns and candidates, and their wire shapes."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from fakes.characterai.characters import FakeCharacter
from fakes.characterai.wire import JsonDict, format_timestamp

MODEL_TYPE = "MODEL_TYPE_FAKE"


class FakeUser(BaseModel):
    """An account. ``user_id`` is an int in the profile and a string inside turns, as on the real service."""

    user_id: int = Field(ge=1)
    username: str = "fake-user"
    name: str = "Fake User"
    email: str = "fake-user@example.invalid"

    def profile(self) -> JsonDict:
        """``GET /chat/user/`` body: the user is nested twice."""
        return {
            "user": {
                "user": {
                    "username": self.username,
                    "id": self.user_id,
                    "first_name": self.email,
                    "account": {
                        "name": self.name,
                        "avatar_type": "DEFAULT",
                        "onboarding_complete": True,
                        "avatar_file_name": "",
                        "mobile_onboarding_complete": 1,
                    },
                    "is_staff": False,
                    "subscription": None,
                    "entitlements": [],
                },
                "is_human": True,
                "name": self.name,
                "email": self.email,
                "needs_to_acknowledge_policy": False,
                "suspended_until": None,
                "hidden_characters": [],
                "blocked_users": [],
                "bio": "",
                "interests": None,
                "date_of_birth": "2000-01-01",
            }
        }


@dataclass
class Candidate:
    candidate_id: str
    raw_content: str
    create_time: datetime
    model_type: str | None = None
    safety_truncated: bool = False
    editor: JsonDict | None = None
    base_candidate_id: str | None = None
    tti_image_rel_path: str | None = None
    final: bool = True  # False while the server is still generating this candidate

    def to_wire(self, is_final: bool | Literal["stored"] | None = "stored") -> JsonDict:
        """``is_final=None`` omits the key, as the service does on intermediate frames; "stored" tells the
        candidate's own state (REST history: ``false`` while it is still being generated)."""
        if is_final == "stored":
            is_final = self.final
        data: JsonDict = {
            "candidate_id": self.candidate_id,
            "create_time": format_timestamp(self.create_time),
            "raw_content": self.raw_content,
        }
        if self.model_type is not None:
            data["model_type"] = self.model_type
        if is_final is not None:
            data["is_final"] = is_final
        if self.safety_truncated:
            data["safety_truncated"] = True
        if self.editor is not None:
            data["editor"] = dict(self.editor)
        if self.base_candidate_id is not None:
            data["base_candidate_id"] = self.base_candidate_id
        if self.tti_image_rel_path:
            data["tti_image_rel_path"] = self.tti_image_rel_path
        return data


@dataclass
class Turn:
    chat_id: str
    turn_id: str
    author_id: str
    author_name: str
    is_human: bool
    create_time: datetime
    last_update_time: datetime
    candidates: list[Candidate] = field(default_factory=list)  # index 0 is the newest candidate
    primary_candidate_id: str = ""
    is_pinned: bool = False
    context_reset: bool = False
    prompt: str = ""  # for character turns: the user text the reply answers (used to regenerate)
    character_id: str | None = None

    def primary(self) -> Candidate:
        for candidate in self.candidates:
            if candidate.candidate_id == self.primary_candidate_id:
                return candidate
        return self.candidates[0]

    def find_candidate(self, candidate_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.candidate_id == candidate_id), None)

    def text(self) -> str:
        return self.primary().raw_content

    def to_wire(self, candidates: list[JsonDict] | None = None) -> JsonDict:
        """The stored turn (each candidate's ``is_final`` as stored) unless a frame-specific list is given."""
        author: JsonDict = {"author_id": self.author_id, "name": self.author_name}
        if self.is_human:
            author["is_human"] = True
        data: JsonDict = {
            "turn_key": {"chat_id": self.chat_id, "turn_id": self.turn_id},
            "create_time": format_timestamp(self.create_time),
            "last_update_time": format_timestamp(self.last_update_time),
            "state": "STATE_OK",
            "author": author,
            "candidates": candidates if candidates is not None else [c.to_wire() for c in self.candidates],
            "primary_candidate_id": self.primary_candidate_id,
            "is_pinned": self.is_pinned,
        }
        if self.context_reset:
            data["context_reset"] = True
        return data


ConversationKind = Literal["dm", "room"]


@dataclass
class Conversation:
    """A one-on-one chat or a room's turn log (rooms reuse the same turn store, keyed by the room id)."""

    chat_id: str
    kind: ConversationKind
    creator_id: int
    create_time: datetime
    character_id: str = ""
    state: str = "STATE_ACTIVE"
    visibility: str = "VISIBILITY_PRIVATE"
    name: str = ""
    preferred_model_type: str = "MODEL_TYPE_SMART"
    turns: list[Turn] = field(default_factory=list)  # oldest first
    generation_count: int = 0

    @property
    def chat_type(self) -> str:
        return "TYPE_ONE_ON_ONE" if self.kind == "dm" else "TYPE_MU_ROOM"

    def find_turn(self, turn_id: str) -> Turn | None:
        return next((t for t in self.turns if t.turn_id == turn_id), None)

    def last_activity(self) -> datetime:
        return self.turns[-1].last_update_time if self.turns else self.create_time

    def to_wire(self, preview_turns: int = 0) -> JsonDict:
        data: JsonDict = {
            "chat_id": self.chat_id,
            "create_time": format_timestamp(self.create_time),
            "creator_id": str(self.creator_id),
            "character_id": self.character_id,
            "state": self.state,
            "type": self.chat_type,
            "visibility": self.visibility,
            "preferred_model_type": self.preferred_model_type,
        }
        if self.name:
            data["name"] = self.name
        if preview_turns > 0:
            data["preview_turns"] = [t.to_wire() for t in reversed(self.turns[-preview_turns:])]
        return data


@dataclass
class Room:
    room_id: str
    title: str
    character_ids: list[str]
    member_ids: list[int]
    created: datetime
    description: str = ""
    visibility: str = "VISIBILITY_UNLISTED"
    join_token: str = ""
    settings: JsonDict = field(default_factory=dict)

    def to_wire(
        self, characters: dict[str, FakeCharacter], users: dict[int, FakeUser], turns: list[Turn] | None = None
    ) -> JsonDict:
        listed = [characters[c] for c in self.character_ids if c in characters]
        members = [users[u] for u in self.member_ids if u in users]
        return {
            "id": self.room_id,
            "title": self.title,
            "description": self.description,
            "visibility": self.visibility,
            "picture": "",
            "last_updated": int(self.created.timestamp()),
            "characters": [{"id": c.id, "name": c.name, "avatar_url": c.avatar_url()} for c in listed],
            "users": [
                {
                    "id": str(u.user_id),
                    "username": u.username,
                    "name": u.name,
                    "avatar_url": "",
                    "role": "ROLE_OWNER" if i == 0 else "ROLE_MEMBER",
                    "state": "STATE_ACTIVE",
                }
                for i, u in enumerate(members)
            ],
            "permissions": [],
            "preview_turns": {"turns": [t.to_wire() for t in (turns or [])], "meta": {"next_token": None}},
            "settings": {
                "anyone_can_join": True,
                "require_approval": False,
                "auto_smart_reply": False,
                "smart_reply_timer": False,
                "join_token": self.join_token,
                "user_limit": 0,
                "character_limit": 0,
                "push_notification_mode": "PUSH_NOTIFICATION_MODE_UNSPECIFIED",
                **self.settings,
            },
        }


def encode_page_token(turn_id: str) -> str:
    return base64.urlsafe_b64encode(f"from:{turn_id}".encode()).decode()


def decode_page_token(token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return raw[5:] if raw.startswith("from:") else None


def history_page(
    conversation: Conversation, next_token: str | None, page_size: int, pinned_only: bool, always_final: bool = False
) -> JsonDict | None:
    """``GET /turns/{id}/``: newest first, ``meta.next_token`` null on the last page. ``None`` for a bad
    token. ``always_final`` marks every candidate ``is_final: true``, even one still being generated."""
    turns: list[Turn] = [t for t in reversed(conversation.turns) if t.is_pinned or not pinned_only]
    start = 0
    if next_token:
        start_turn = decode_page_token(next_token)
        ids = [t.turn_id for t in turns]
        if start_turn is None or start_turn not in ids:
            return None
        start = ids.index(start_turn)
    page = turns[start : start + page_size]
    rest = turns[start + page_size :]
    meta: dict[str, Any] = {"next_token": encode_page_token(rest[0].turn_id) if rest else None}
    final: bool | Literal["stored"] = True if always_final else "stored"
    shown = [t.to_wire([c.to_wire(is_final=final) for c in t.candidates]) for t in page]
    return {"turns": shown, "meta": meta}
