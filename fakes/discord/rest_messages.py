"""Channel messages (create, read, history, edit, delete) and typing, as the bot token sees them."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from . import permissions as perms
from .core import FakeCore, TypingEvent
from .payloads import message_payload
from .rest_router import RestRouter, RouteSpec, payload_of
from .wire import (
    CANNOT_EDIT_OTHERS_MESSAGE,
    DiscordError,
    form_error,
    json_response,
    missing_permissions,
    no_content,
)
from .world import DM_CHANNEL, Channel


def message_reference_id(core: FakeCore, channel: Channel, payload: dict[str, Any]) -> int | None:
    reference = payload.get("message_reference")
    if not reference:
        return None
    try:
        message_id = int(reference["message_id"])
    except (KeyError, TypeError, ValueError):
        raise form_error(["message_reference", "message_id"], "BASE_TYPE_REQUIRED", "This field is required") from None
    replied = core.world.messages.get(message_id)
    if replied is None or replied.deleted or replied.channel_id != channel.id:
        if reference.get("fail_if_not_exists", True):
            raise form_error(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
        return None
    return message_id


def require_bot_permission(core: FakeCore, channel: Channel, permission: int) -> None:
    if channel.type == DM_CHANNEL:
        return
    granted = core.world.permissions_in(channel, core.bot.id)
    if not granted & perms.VIEW_CHANNEL or not granted & permission:
        raise missing_permissions()


def add_message_routes(router: RestRouter, core: FakeCore) -> None:
    world = core.world

    async def create_message(request: web.Request) -> web.Response:
        channel = world.channel(request.match_info["channel_id"])
        send_permission = perms.SEND_MESSAGES_IN_THREADS if channel.is_thread else perms.SEND_MESSAGES
        require_bot_permission(core, channel, send_permission)
        payload = payload_of(request)
        core.validate_message(payload, creating=True)
        message = await core.post_message(
            channel,
            author_id=core.bot.id,
            content=str(payload.get("content") or ""),
            embeds=payload.get("embeds"),
            attachments=payload.get("attachments"),
            reply_to=message_reference_id(core, channel, payload),
            allowed_mentions=payload.get("allowed_mentions"),
            flags=int(payload.get("flags") or 0),
            nonce=payload.get("nonce"),
            tts=bool(payload.get("tts")),
        )
        return json_response(message_payload(world, message))

    async def get_message(request: web.Request) -> web.Response:
        channel = world.channel(request.match_info["channel_id"])
        require_bot_permission(core, channel, perms.READ_MESSAGE_HISTORY)
        message = world.message(channel.id, request.match_info["message_id"])
        return json_response(message_payload(world, message))

    async def history(request: web.Request) -> web.Response:
        channel = world.channel(request.match_info["channel_id"])
        require_bot_permission(core, channel, perms.READ_MESSAGE_HISTORY)
        limit = max(1, min(100, int(request.query.get("limit", "50"))))
        ids = sorted(mid for mid in channel.message_ids if not world.messages[mid].deleted)
        if "before" in request.query:
            ids = [mid for mid in ids if mid < int(request.query["before"])][-limit:]
        elif "after" in request.query:
            ids = [mid for mid in ids if mid > int(request.query["after"])][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            older = [mid for mid in ids if mid <= around][-((limit + 1) // 2) :]
            newer = [mid for mid in ids if mid > around][: limit // 2]
            ids = older + newer
        else:
            ids = ids[-limit:]
        return json_response([message_payload(world, world.messages[mid]) for mid in reversed(ids)])

    async def edit_message(request: web.Request) -> web.Response:
        channel = world.channel(request.match_info["channel_id"])
        message = world.message(channel.id, request.match_info["message_id"])
        if message.author_id != core.bot.id or message.webhook_id is not None:
            raise DiscordError(403, CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user")
        payload = payload_of(request)
        core.validate_message(payload, creating=False)
        content = payload.get("content")
        await core.edit_message(
            message,
            content=None if content is None else str(content),
            embeds=payload.get("embeds"),
            allowed_mentions=payload.get("allowed_mentions"),
        )
        return json_response(message_payload(world, message))

    async def delete_message(request: web.Request) -> web.Response:
        channel = world.channel(request.match_info["channel_id"])
        message = world.message(channel.id, request.match_info["message_id"])
        if message.author_id != core.bot.id:
            require_bot_permission(core, channel, perms.MANAGE_MESSAGES)
        await core.delete_message(message)
        return no_content()

    async def typing(request: web.Request) -> web.Response:
        channel = world.channel(request.match_info["channel_id"])
        require_bot_permission(core, channel, perms.SEND_MESSAGES)
        core.typing.append(TypingEvent(time.monotonic(), channel.id))
        core.state_changed()
        return no_content()

    messages = "/channels/{channel_id}/messages"
    for spec in (
        RouteSpec("POST", messages, create_message, bucket="messages", major="channel_id"),
        RouteSpec("GET", messages, history),
        RouteSpec("GET", messages + "/{message_id}", get_message),
        RouteSpec("PATCH", messages + "/{message_id}", edit_message, bucket="messages", major="channel_id"),
        RouteSpec("DELETE", messages + "/{message_id}", delete_message),
        RouteSpec("POST", "/channels/{channel_id}/typing", typing),
    ):
        router.add(spec)
