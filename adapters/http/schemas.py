"""The HTTP API's wire models. Handlers validate requests and serialise responses with these, and the OpenAPI
document is generated from these same classes, so the two cannot drift apart.

JSON names are camelCase (``userId``); Python attributes are snake_case. Times are Unix epoch milliseconds
(integers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator
from pydantic.alias_generators import to_camel

from bot.models import PRESET_NAME_PATTERN

# No ":" (it separates the parts of our conversation keys) and no "/" (the thread separator), so an id can never
# smuggle its way into another conversation's key.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_.@+~-]{1,128}$"
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,600}$"

ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN)]
PresetName = Annotated[str, Field(pattern=PRESET_NAME_PATTERN)]
EpochMillis = Annotated[int, Field(json_schema_extra={"format": "int64"})]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_millis(moment: datetime | None) -> int | None:
    """A moment as Unix epoch milliseconds (exact integer arithmetic, rounded down); None stays None."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


class ApiModel(BaseModel):
    """JSON uses the camelCase names; Python code builds models with the snake_case ones. No extra fields, so
    the documented schemas are exact (``additionalProperties: false``)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        field_title_generator=lambda name, _: to_camel(name),
        serialize_by_alias=True,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )


class RequestModel(ApiModel):
    """Clients must use the JSON names; unknown fields are refused, so a misspelt field is a clear 400 rather than
    silently ignored."""

    model_config = ConfigDict(validate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _only_json_names(cls, data: Any) -> Any:
        # pydantic lets a snake_case field name pass as "not extra" even when only the alias is accepted
        if isinstance(data, dict):
            known = {field.alias or name for name, field in cls.model_fields.items()}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise ValueError(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(sorted(known))}")
        return data


class QueryModel(ApiModel):
    """Query strings tolerate unknown parameters (cache busters and the like)."""

    model_config = ConfigDict(extra="ignore", validate_by_name=False)


# ---- requests ----


class ChatBody(RequestModel):
    message: str = Field(
        description="the user's message to the character (not blank)",
        json_schema_extra={"pattern": r"\S"},  # documents _not_blank, which gives the clearer error
    )
    user_id: ExternalId = Field(description="your app's id for the user; the API calls them http:<userId>")
    group_id: ExternalId | None = Field(
        default=None, description="a group chat shared by several users; leave out for a private conversation"
    )
    preset: PresetName | None = Field(
        default=None,
        description="the preset (character) to talk to; binds a new conversation to it. Leave out to use the "
        "conversation's current preset or the default",
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, message: str) -> str:
        if not message.strip():
            raise ValueError("message must not be blank")
        return message


class ListConversationsQuery(QueryModel):
    user_id: ExternalId | None = Field(
        default=None, description="only conversations this user has spoken in (whoever spoke last)"
    )
    group_id: ExternalId | None = Field(
        default=None, description="only this group's conversation(s); with userId: that user's conversation there"
    )
    limit: int = Field(default=20, ge=1, le=100, description="the page size")
    offset: int = Field(default=0, ge=0, description="how many of the filtered conversations to skip")


class HistoryQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=200, description="how many of the latest messages to return")


# ---- responses ----


class Usage(ApiModel):
    """Reserved: filled in for backends that report token usage (Character.AI does not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class ChatData(ApiModel):
    response: str = Field(description="the character's complete reply")
    conversation_id: str = Field(description="opaque id of the conversation, for /api/conversations/{id}")
    preset: str = Field(description="the preset that answered")
    usage: Usage | None = None


class ChatResponse(ApiModel):
    success: Literal[True] = True
    data: ChatData


class ConversationSummary(ApiModel):
    id: str
    user_id: str | None = Field(description="the user who spoke last (for a private conversation: its user)")
    group_id: str | None = Field(description="null for a private conversation")
    preset: str | None
    message_count: int = Field(description="user messages plus character replies since the last clear")
    last_message: str
    updated_at: EpochMillis | None = Field(
        description="when anybody last spoke in it (Unix epoch milliseconds); null when nothing was said since "
        "the last clear"
    )


class ConversationListData(ApiModel):
    conversations: list[ConversationSummary] = Field(description="this page, most recently active first")
    total: int = Field(description="how many conversations match the filters, over all pages")


class ConversationListResponse(ApiModel):
    success: Literal[True] = True
    data: ConversationListData


class HistoryMessage(ApiModel):
    role: Literal["user", "assistant"]
    content: str
    timestamp: EpochMillis | None = Field(
        description="when it was written (Unix epoch milliseconds), when the backend says"
    )


class ConversationDetail(ConversationSummary):
    messages: list[HistoryMessage] = Field(description="the latest messages, oldest first, from the backend")


class ConversationResponse(ApiModel):
    success: Literal[True] = True
    data: ConversationDetail


class MessageResponse(ApiModel):
    success: Literal[True] = True
    message: str


ErrorCodeName = Literal[
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "CONVERSATION_NOT_FOUND",
    "RATE_LIMITED",
    "MODEL_ERROR",
    "CHANNEL_UNAVAILABLE",
    "INTERNAL_ERROR",
]


class ErrorBody(ApiModel):
    code: ErrorCodeName
    message: str
    reason: str | None = Field(default=None, description="the backend's own error code, when it gave one")
    retry_after: int | None = Field(default=None, description="seconds to wait before retrying (429 only)")


class ErrorResponse(ApiModel):
    success: Literal[False] = False
    error: ErrorBody


# ---- Server-Sent Events (each event's data is one of these, as JSON) ----


class StartEvent(ApiModel):
    type: Literal["start"] = "start"
    conversation_id: str


class ContentEvent(ApiModel):
    type: Literal["content"] = "content"
    text: str = Field(description="the new text since the previous content event (a delta)")


class EndEvent(ApiModel):
    type: Literal["end"] = "end"
    response: str = Field(
        description="the complete reply; authoritative should the backend have revised text it already sent"
    )
    usage: Usage | None = None


class ErrorEvent(ApiModel):
    type: Literal["error"] = "error"
    error: ErrorBody


class StreamEvent(RootModel[Annotated[StartEvent | ContentEvent | EndEvent | ErrorEvent, Field(discriminator="type")]]):
    """The data of one Server-Sent Event of /api/chat/stream."""
