"""From an API call to the core's ChatRequest and Route, including the per-request ``preset``.

The Router chooses a preset by binding (thread, channel, default). A request that names a preset therefore binds
its conversation to it, recorded as bound by the requesting user and audited, as long as the conversation has no
upstream chat with another character yet; otherwise the request is refused (INVALID_REQUEST) rather than quietly
continuing one character's chat with another. DELETE a conversation to start it over with another preset.
"""

from __future__ import annotations

import uuid
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
from bot.models import AuditEntry, Binding, ChatRequest, ReplyTarget
from bot.ports import EVERYONE
from bot.router import Route
from bot.service import ChatService

# The acting user of requests about a whole group conversation (reset), where no single user asked.
API_USER = "api"


@dataclass(frozen=True)
class PreparedChat:
    request: ChatRequest
    route: Route

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


async def prepare_chat(service: ChatService, body: ChatBody) -> PreparedChat:
    request = chat_request(body.user_id, body.group_id, body.message)
    if body.preset is not None:
        await _use_preset(service, request, body.preset)
    route = await service.router.resolve(request)
    if route is None:
        raise ApiError("INVALID_REQUEST", NO_PRESET_MESSAGE, reason="no_preset")
    return PreparedChat(request=request, route=route)


async def _use_preset(service: ChatService, request: ChatRequest, name: str) -> None:
    if await service.router.catalog.get(name) is None:
        raise invalid(f"There is no preset named {name!r}.")
    current = await service.router.resolve(request)
    if current is not None and current.preset.name == name:
        return
    conversation = request.conversation_key
    if await service.store.list_chat_ids(conversation):
        talking_to = f"preset {current.preset.name!r}" if current is not None else "another character"
        raise invalid(
            f'This conversation already talks to {talking_to}. Leave out "preset" to continue it, or '
            "DELETE /api/conversations/{id} first to start it over with another preset."
        )
    await service.store.put_binding(Binding(conversation=conversation, preset=name, bound_by=request.user_id))
    await service.store.append_audit(
        AuditEntry(
            actor=request.user_id, conversation=conversation, action="use", detail=f"{name} (HTTP API request)"
        )
    )
