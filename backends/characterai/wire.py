"""Pydantic models of the Character.AI objects the client reads (turns, chats, characters, rooms, profile)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.upstream.base import HistoryTurn

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class Wire(BaseModel):
    # Ids are strings everywhere except the profile's user id; tolerate numbers where a string is expected.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def now_text() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


class TurnKey(Wire):
    chat_id: str = ""
    turn_id: str = ""


class Author(Wire):
    author_id: str = ""
    name: str = ""
    is_human: bool = False


class Candidate(Wire):
    candidate_id: str = ""
    raw_content: str = ""
    is_final: bool = False
    safety_truncated: bool = False
    create_time: str | None = None


class Turn(Wire):
    turn_key: TurnKey = Field(default_factory=TurnKey)
    author: Author = Field(default_factory=Author)
    candidates: list[Candidate] = Field(default_factory=list)
    primary_candidate_id: str | None = None
    create_time: str | None = None
    is_pinned: bool = False

    @property
    def turn_id(self) -> str:
        return self.turn_key.turn_id

    @property
    def primary(self) -> Candidate:
        """The candidate shown to users: the primary one, else the first (a new swipe is at index 0)."""
        for candidate in self.candidates:
            if self.primary_candidate_id and candidate.candidate_id == self.primary_candidate_id:
                return candidate
        return self.candidates[0] if self.candidates else Candidate()

    @property
    def text(self) -> str:
        return self.primary.raw_content

    def to_history(self) -> HistoryTurn:
        return HistoryTurn(
            turn_id=self.turn_id,
            author_name=self.author.name,
            is_human=self.author.is_human,
            text=self.text,
            created_at=parse_time(self.create_time),
            final=self.primary.is_final,
        )


class TurnsMeta(Wire):
    next_token: str | None = None


class TurnsPage(Wire):
    """One page of history, newest turn first; ``meta.next_token`` is empty on the last page."""

    turns: list[Turn] = Field(default_factory=list)
    meta: TurnsMeta = Field(default_factory=TurnsMeta)

    @property
    def next_token(self) -> str | None:
        return self.meta.next_token or None


class Chat(Wire):
    chat_id: str
    character_id: str = ""
    creator_id: str = ""
    create_time: str | None = None
    state: str = ""
    type: str = ""
    name: str | None = None


class Character(Wire):
    external_id: str = ""
    name: str = ""
    participant__name: str = ""
    title: str = ""
    greeting: str = ""
    description: str = ""
    avatar_file_name: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.participant__name


class Profile(BaseModel):
    """Who the token belongs to. ``user_id`` is an int in the profile and a string inside turns."""

    model_config = ConfigDict(frozen=True)
    user_id: int
    username: str
    name: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Profile:
        outer = body["user"]
        inner = outer["user"]
        return cls(
            user_id=int(inner["id"]),
            username=str(inner.get("username") or ""),
            name=str(outer.get("name") or inner.get("username") or ""),
        )


class RoomCharacter(Wire):
    id: str
    name: str = ""
    avatar_url: str | None = None


class Room(Wire):
    id: str
    title: str = ""
    description: str = ""
    visibility: str = ""
    characters: list[RoomCharacter] = Field(default_factory=list)
