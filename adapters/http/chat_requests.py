"""From an API call to the core's ChatRequest and Route, including the per-request ``preset``.

The Router chooses a preset by binding (thread, channel, default). A request that names a preset therefore binds
its conversation to it, recorded as bound by the requesting user and audited, as long as the conversation has no
upstream chat with another character yet; otherwise the request is refused (INVALID_REQUEST) rather than quietly
continuing one character's chat with another. DELETE a conversation to start it over with another preset.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from adapters.http.errors import NO_PRESET_MESSAGE, ApiError, invalid
from adapters.http.identity import (
    PLATFORM,
    ConversationRef,
    conversation_key,
    dm_user,
    encode_conversation_id,
    external_user,
    group_of,
    user_key,
)
from adapters.http.schemas import ChatBody
from bot.conversations import ConversationBook
from bot.door import Door
from bot.models import ChatRequest, ReplyEvent, ReplyTarget
from bot.npc import flatten
from bot.plans import Cast, Say, Stream
from bot.ports import EVERYONE
from bot.router import Route

# The acting user of requests about a whole group conversation (reset), where no single user asked.
API_USER = "api"


@dataclass(frozen=True)
class PreparedChat:
    request: ChatRequest
    route: Route
    events: AsyncIterator[ReplyEvent]

    @property
    def conversation_id(self) -> str:
        return encode_conversation_id(self.route.conversation, self.route.who)


def chat_request(user_id: str, group_id: str | None, text: str) -> ChatRequest:
    """A ChatRequest with a fresh message id: every HTTP call is a new message (there are no redeliveries)."""
    conversation = conversation_key(user_id, group_id)
    return ChatRequest(
        platform=PLATFORM,
        conversation_id=conversation,
        user_id=user_key(user_id),
        user_name=user_id,
        is_dm=group_id is None,
        text=text,
        message_id=f"{PLATFORM}:{uuid.uuid4().hex}",
        mentions_bot=True,  # an API call is always addressed to the character
        target=ReplyTarget(platform=PLATFORM, chat=conversation.removeprefix(f"{PLATFORM}:")),
    )


def request_for(ref: ConversationRef) -> ChatRequest:
    """A request that routes to an existing conversation (for clear), acting as its user."""
    dm = dm_user(ref.conversation)
    if dm is not None:
        user = dm
    elif ref.who != EVERYONE:
        user = external_user(ref.who) or API_USER
    else:
        user = API_USER
    return chat_request(user, group_of(ref.conversation), text="")


async def prepare_chat(door: Door, body: ChatBody) -> PreparedChat:
    """The core's plan for an API chat call (binding its conversation to ``preset`` first when it names one)."""
    request = chat_request(body.user_id, body.group_id, body.message)
    if body.preset is not None:
        await _use_preset(door.conversations, request, body.preset)
    plan = await door.handle(request)
    match plan:
        case Stream():
            return PreparedChat(request=request, route=plan.route, events=plan.events)
        case Cast():
            return PreparedChat(request=request, route=plan.route, events=flatten(plan.items))
        case Say(error="no_preset"):
            raise ApiError("INVALID_REQUEST", NO_PRESET_MESSAGE, reason="no_preset")
        case Say():
            raise invalid(plan.text)
        case _:
            raise invalid("This message cannot be answered.")


async def _use_preset(book: ConversationBook, request: ChatRequest, name: str) -> None:
    preset = await book.preset(name)
    if preset is None:
        raise invalid(f"There is no preset named {name!r}.")
    current = await book.route(request)
    if current is not None and current.preset.name == name:
        return
    if await book.has_chats(request.conversation_key):
        talking_to = f"preset {current.preset.name!r}" if current is not None else "another character"
        raise invalid(
            f'This conversation already talks to {talking_to}. Leave out "preset" to continue it, or '
            "DELETE /api/conversations/{id} first to start it over with another preset."
        )
    await book.bindings.bind(request, preset, via="HTTP API request")
