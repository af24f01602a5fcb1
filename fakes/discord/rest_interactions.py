"""Interaction callbacks, the `@original` response and follow-ups (token routes, no Authorization).

A callback answers 204 without a body, or, with `?with_response=true` (discord.py sends `1`), 200 and the
interaction callback response object (`{interaction, resource}`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import interactions as cb
from .core import CHAT_INPUT_COMMAND_MESSAGE, EPHEMERAL, LOADING, FakeCore
from .interactions import InteractionRecord
from .payloads import message_payload
from .rest_router import RestRouter, RouteSpec, payload_of
from .wire import UNKNOWN_MESSAGE, UNKNOWN_WEBHOOK, json_response, no_content, not_found
from .world import StoredMessage


def add_interaction_routes(router: RestRouter, core: FakeCore) -> None:
    async def callback(request: web.Request) -> web.Response:
        payload = payload_of(request)
        callback_type = int(payload.get("type", 0))
        data: dict[str, Any] = payload.get("data") or {}
        if callback_type in (cb.CHANNEL_MESSAGE, cb.UPDATE_MESSAGE):
            core.validate_message(data, creating=callback_type == cb.CHANNEL_MESSAGE)
        record = core.interactions.acknowledge(
            request.match_info["interaction_id"], request.match_info["token"], callback_type
        )
        record.ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        summary: dict[str, Any] = {
            "id": str(record.id),
            "type": record.type,
            "response_message_loading": callback_type == cb.DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": record.ephemeral,
        }
        resource: dict[str, Any] = {"type": callback_type}
        message: StoredMessage | None = None
        if callback_type in (cb.CHANNEL_MESSAGE, cb.DEFERRED_CHANNEL_MESSAGE):
            loading = callback_type == cb.DEFERRED_CHANNEL_MESSAGE
            message = await post_interaction_message(core, record, data, loading=loading)
            record.original_message_id = message.id
        elif callback_type == cb.UPDATE_MESSAGE and record.source_message_id is not None:
            message = core.world.messages[record.source_message_id]
            await core.edit_message(message, content=data.get("content"), embeds=data.get("embeds"))
        if message is not None:
            summary["response_message_id"] = str(message.id)
            if callback_type != cb.DEFERRED_CHANNEL_MESSAGE:
                resource["message"] = message_payload(core.world, message)
        core.state_changed()
        if request.query.get("with_response", "false").lower() not in ("1", "true"):
            return no_content()  # Discord's plain answer; discord.py always asks `with_response=1`
        return json_response({"interaction": summary, "resource": resource})

    router.add(
        RouteSpec("POST", "/interactions/{interaction_id}/{token}/callback", callback, auth=False)
    )


async def post_interaction_message(
    core: FakeCore, record: InteractionRecord, data: dict[str, Any], *, loading: bool = False
) -> StoredMessage:
    flags = int(data.get("flags") or 0) & EPHEMERAL
    if loading:
        flags |= LOADING
    return await core.post_message(
        core.world.channel(record.channel_id),
        author_id=core.bot.id,
        content=str(data.get("content") or ""),
        embeds=data.get("embeds"),
        allowed_mentions=data.get("allowed_mentions"),
        webhook_id=record.application_id,
        interaction_id=record.id,
        flags=flags,
        message_type=CHAT_INPUT_COMMAND_MESSAGE,
    )


def interaction_message(core: FakeCore, record: InteractionRecord, message_ref: str) -> StoredMessage:
    """`@original` or a follow-up id belonging to this interaction."""
    if message_ref == "@original":
        if not record.acknowledged:
            raise not_found(UNKNOWN_WEBHOOK, "Webhook")
        message_id = record.original_message_id
        if message_id is None and record.ack_type == cb.DEFERRED_UPDATE:
            message_id = record.source_message_id
    else:
        message_id = int(message_ref) if message_ref.isdigit() else None
        if message_id not in record.followup_ids and message_id != record.original_message_id:
            message_id = None
    message = core.world.messages.get(message_id) if message_id is not None else None
    if message is None or message.deleted:
        raise not_found(UNKNOWN_MESSAGE, "Message")
    return message


async def interaction_followup(
    core: FakeCore, record: InteractionRecord, payload: dict[str, Any], wait: bool
) -> web.Response:
    if not record.acknowledged:
        raise not_found(UNKNOWN_WEBHOOK, "Webhook")
    core.validate_message(payload, creating=True)
    message = await core.post_message(
        core.world.channel(record.channel_id),
        author_id=core.bot.id,
        content=str(payload.get("content") or ""),
        embeds=payload.get("embeds"),
        allowed_mentions=payload.get("allowed_mentions"),
        webhook_id=record.application_id,
        interaction_id=record.id,
        flags=int(payload.get("flags") or 0) & EPHEMERAL,
    )
    record.followup_ids.append(message.id)
    return json_response(message_payload(core.world, message)) if wait else no_content()


async def interaction_message_request(
    core: FakeCore, record: InteractionRecord, method: str, message_ref: str, payload: dict[str, Any]
) -> web.Response:
    message = interaction_message(core, record, message_ref)
    if method == "GET":
        return json_response(message_payload(core.world, message))
    if method == "DELETE":
        await core.delete_message(message)
        return no_content()
    core.validate_message(payload, creating=False)
    content = payload.get("content")
    await core.edit_message(
        message,
        content=None if content is None else str(content),
        embeds=payload.get("embeds"),
        allowed_mentions=payload.get("allowed_mentions"),
        flags=message.flags & ~LOADING,
    )
    return json_response(message_payload(core.world, message))
