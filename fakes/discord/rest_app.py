"""Login, gateway discovery, application commands, channels and DMs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .core import FakeCore
from .payloads import channel_payload, user_payload
from .rest_router import PAYLOAD, RestRouter, RouteSpec, payload_of
from .wire import DiscordError, form_error, json_response, not_found


def add_app_routes(router: RestRouter, core: FakeCore) -> None:
    async def get_me(request: web.Request) -> web.Response:
        return json_response({**user_payload(core.bot), "verified": True, "mfa_enabled": False, "flags": 0})

    async def get_user(request: web.Request) -> web.Response:
        try:
            user = core.world.users[int(request.match_info["user_id"])]
        except (KeyError, ValueError):
            raise not_found(10013, "User") from None
        return json_response(user_payload(user))

    async def application_info(request: web.Request) -> web.Response:
        owner = core.world.users[core.guild.owner_id]
        return json_response(
            {
                "id": str(core.application_id),
                "name": core.bot.username,
                "description": "fake application",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_payload(owner),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "summary": "",
                "rpc_origins": [],
                "bot": user_payload(core.bot),
            }
        )

    async def gateway(request: web.Request) -> web.Response:
        return json_response({"url": core.gateway_url})

    async def gateway_bot(request: web.Request) -> web.Response:
        limits = {"total": 1000, "remaining": 1000, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response({"url": core.gateway_url, "shards": 1, "session_start_limit": limits})

    def command_list(request: web.Request) -> list[dict[str, Any]]:
        if str(request.match_info["application_id"]) != str(core.application_id):
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return core.global_commands
        if int(guild_id) not in core.world.guilds:
            raise not_found(10004, "Guild")
        return core.guild_commands.setdefault(int(guild_id), [])

    async def put_commands(request: web.Request) -> web.Response:
        target = command_list(request)
        body = request[PAYLOAD]
        if not isinstance(body, list):
            raise form_error([], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        guild_id = request.match_info.get("guild_id")
        stored = []
        for index, command in enumerate(body):
            if not command.get("name"):
                raise form_error([index, "name"], "BASE_TYPE_REQUIRED", "This field is required")
            previous = next((c for c in target if c["name"] == command["name"]), None)
            stored.append(
                {
                    "type": 1,
                    "description": "",
                    **command,
                    "id": previous["id"] if previous else str(core.world.snowflakes.next()),
                    "application_id": str(core.application_id),
                    "version": str(core.world.snowflakes.next()),
                    **({"guild_id": guild_id} if guild_id else {}),
                }
            )
        target[:] = stored
        core.state_changed()
        return json_response(stored)

    async def get_commands(request: web.Request) -> web.Response:
        return json_response(command_list(request))

    async def get_channel(request: web.Request) -> web.Response:
        return json_response(channel_payload(core.world, core.world.channel(request.match_info["channel_id"])))

    async def open_dm(request: web.Request) -> web.Response:
        recipient = payload_of(request).get("recipient_id")
        try:
            user = core.world.users[int(str(recipient))]
        except (KeyError, ValueError):
            raise form_error(["recipient_id"], "NUMBER_TYPE_COERCE", "Value is not snowflake.") from None
        channel = core.world.open_dm(user)
        core.state_changed()
        return json_response(channel_payload(core.world, channel))

    for spec in (
        RouteSpec("GET", "/users/@me", get_me),
        RouteSpec("GET", "/users/{user_id:\\d+}", get_user),
        RouteSpec("GET", "/oauth2/applications/@me", application_info),
        RouteSpec("GET", "/applications/@me", application_info),
        RouteSpec("GET", "/gateway", gateway, auth=False),
        RouteSpec("GET", "/gateway/bot", gateway_bot),
        RouteSpec("PUT", "/applications/{application_id}/commands", put_commands),
        RouteSpec("GET", "/applications/{application_id}/commands", get_commands),
        RouteSpec("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_commands),
        RouteSpec("GET", "/applications/{application_id}/guilds/{guild_id}/commands", get_commands),
        RouteSpec("GET", "/channels/{channel_id}", get_channel),
        RouteSpec("POST", "/users/@me/channels", open_dm),
    ):
        router.add(spec)
