"""Channel webhooks (create, list, execute, edit) and the shared `/webhooks/{id}/{token}` token routes.

A token route whose id is the application id and whose token belongs to an interaction is an interaction
route (follow-ups, `@original`); every other one is a channel webhook.

Executions count against the webhook's own bucket (`webhook_rate`, shared with edits of its messages) and
against its channel's cap shared by all the channel's webhooks (`webhook_channel_rate`; Discord's is about
30 per minute): that one sends no `X-RateLimit-*` headers until it is hit, then 429 with
`X-RateLimit-Scope: shared`. Edits do not count against the channel's cap.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import permissions as perms
from .core import EPHEMERAL, FakeCore
from .payloads import avatar_hash, message_payload, webhook_payload
from .rest_interactions import interaction_followup, interaction_message_request
from .rest_messages import require_bot_permission
from .rest_router import RestRouter, RouteSpec, enforce_bucket, payload_of
from .wire import (
    INVALID_CHANNEL_TYPE,
    INVALID_WEBHOOK_TOKEN,
    TOO_MANY_WEBHOOKS,
    UNKNOWN_MESSAGE,
    DiscordError,
    form_error,
    json_response,
    no_content,
    not_found,
)
from .world import Channel, StoredMessage, Webhook

FORBIDDEN_NAME_PARTS = ("clyde", "discord")


def validate_webhook_name(name: Any, field: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 80:
        raise form_error([field], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
    if any(part in name.lower() for part in FORBIDDEN_NAME_PARTS):
        raise form_error([field], "USERNAME_INVALID_CONTAINS", "Username cannot contain \"clyde\" or \"discord\"")
    return name


def add_webhook_routes(router: RestRouter, core: FakeCore) -> None:
    world = core.world

    def webhook_channel(request: web.Request) -> Channel:
        channel = world.channel(request.match_info["channel_id"])
        if channel.type != 0:
            raise DiscordError(400, INVALID_CHANNEL_TYPE, "Cannot execute action on this channel type")
        require_bot_permission(core, channel, perms.MANAGE_WEBHOOKS)
        return channel

    async def create_webhook(request: web.Request) -> web.Response:
        channel = webhook_channel(request)
        payload = payload_of(request)
        name = validate_webhook_name(payload.get("name"), "name")
        if len(world.webhooks_in(channel.id)) >= core.config.max_webhooks_per_channel:
            limit = core.config.max_webhooks_per_channel
            raise DiscordError(400, TOO_MANY_WEBHOOKS, f"Maximum number of webhooks reached ({limit})")
        avatar = avatar_hash(payload.get("avatar"))
        webhook = world.add_webhook(channel, name, avatar, core.bot, core.application_id)
        await announce(core, channel)
        return json_response(webhook_payload(world, webhook))

    async def channel_webhooks(request: web.Request) -> web.Response:
        channel = webhook_channel(request)
        return json_response([webhook_payload(world, hook) for hook in world.webhooks_in(channel.id)])

    async def guild_webhooks(request: web.Request) -> web.Response:
        guild_id = int(request.match_info["guild_id"])
        hooks = [hook for hook in world.webhooks.values() if hook.guild_id == guild_id]
        return json_response([webhook_payload(world, hook) for hook in hooks])

    async def webhook_by_id(request: web.Request) -> web.Response:
        webhook = world.webhook(request.match_info["webhook_id"])
        channel = world.channel(webhook.channel_id)
        if request.method == "GET":
            return json_response(webhook_payload(world, webhook))
        require_bot_permission(core, channel, perms.MANAGE_WEBHOOKS)
        return await change_webhook(request, webhook)

    async def change_webhook(request: web.Request, webhook: Webhook) -> web.Response:
        channel = world.channel(webhook.channel_id)
        if request.method == "DELETE":
            del world.webhooks[webhook.id]
            await announce(core, channel)
            return no_content()
        payload = payload_of(request)
        if "name" in payload:
            webhook.name = validate_webhook_name(payload["name"], "name")
        if "avatar" in payload:
            webhook.avatar = avatar_hash(payload["avatar"])
        await announce(core, channel)
        return json_response(webhook_payload(world, webhook))

    async def token_root(request: web.Request) -> web.Response:
        hook_id, token = request.match_info["webhook_id"], request.match_info["token"]
        record = core.interactions.by_token(hook_id, token)
        wait = request.query.get("wait", "false").lower() in ("1", "true")
        if record is not None:
            if request.method != "POST":
                raise not_found(UNKNOWN_MESSAGE, "Message")
            return await interaction_followup(core, record, payload_of(request), wait)
        webhook = webhook_with_token(hook_id, token)
        if request.method == "POST":
            return await execute(request, webhook, wait)
        if request.method == "GET":
            return json_response(webhook_payload(world, webhook, with_token=False))
        return await change_webhook(request, webhook)

    def webhook_with_token(hook_id: str, token: str) -> Webhook:
        webhook = world.webhook(hook_id)
        if webhook.token != token:
            raise DiscordError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return webhook

    async def execute(request: web.Request, webhook: Webhook, wait: bool) -> web.Response:
        enforce_bucket(core, request, "webhook", str(webhook.id))
        # every webhook of a channel (threads included) shares one cap, invisible until it is hit
        enforce_bucket(core, request, "webhook_channel", str(webhook.channel_id), scope="shared", announce=False)
        payload = payload_of(request)
        core.validate_message(payload, creating=True)
        if payload.get("username") is not None:
            validate_webhook_name(payload["username"], "username")
        channel = world.channel(webhook.channel_id)
        if "thread_id" in request.query:
            channel = world.channel(request.query["thread_id"])
            if channel.parent_id != webhook.channel_id:
                raise form_error(["thread_id"], "UNKNOWN_CHANNEL", "Unknown Channel")
        message = await core.post_message(
            channel,
            author_id=webhook.id,
            content=str(payload.get("content") or ""),
            embeds=payload.get("embeds"),
            attachments=payload.get("attachments"),
            allowed_mentions=payload.get("allowed_mentions"),
            webhook_id=webhook.id,
            username=payload.get("username"),
            avatar_url=payload.get("avatar_url"),
            flags=int(payload.get("flags") or 0) & ~EPHEMERAL,
            tts=bool(payload.get("tts")),
        )
        return json_response(message_payload(world, message)) if wait else no_content()

    async def token_message(request: web.Request) -> web.Response:
        hook_id, token = request.match_info["webhook_id"], request.match_info["token"]
        message_ref = request.match_info["message_id"]
        record = core.interactions.by_token(hook_id, token)
        if record is not None:
            return await interaction_message_request(core, record, request.method, message_ref, payload_of(request))
        webhook = webhook_with_token(hook_id, token)
        message = webhook_message(webhook, message_ref)
        if request.method == "GET":
            return json_response(message_payload(world, message))
        if request.method == "DELETE":
            await core.delete_message(message)
            return no_content()
        enforce_bucket(core, request, "webhook", str(webhook.id))
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

    def webhook_message(webhook: Webhook, message_ref: str) -> StoredMessage:
        message = world.messages.get(int(message_ref)) if message_ref.isdigit() else None
        if message is None or message.deleted or message.webhook_id != webhook.id:
            raise not_found(UNKNOWN_MESSAGE, "Message")
        return message

    token_path = "/webhooks/{webhook_id:\\d+}/{token}"
    for spec in (
        RouteSpec("POST", "/channels/{channel_id}/webhooks", create_webhook),
        RouteSpec("GET", "/channels/{channel_id}/webhooks", channel_webhooks),
        RouteSpec("GET", "/guilds/{guild_id}/webhooks", guild_webhooks),
        RouteSpec("GET", "/webhooks/{webhook_id:\\d+}", webhook_by_id),
        RouteSpec("PATCH", "/webhooks/{webhook_id:\\d+}", webhook_by_id),
        RouteSpec("DELETE", "/webhooks/{webhook_id:\\d+}", webhook_by_id),
        *(RouteSpec(method, token_path, token_root, auth=False) for method in ("POST", "GET", "PATCH", "DELETE")),
        *(
            RouteSpec(method, token_path + "/messages/{message_id}", token_message, auth=False)
            for method in ("GET", "PATCH", "DELETE")
        ),
    ):
        router.add(spec)


async def announce(core: FakeCore, channel: Channel) -> None:
    await core.gateway.dispatch(
        "WEBHOOKS_UPDATE", {"guild_id": str(channel.guild_id), "channel_id": str(channel.id)}
    )
    core.state_changed()
