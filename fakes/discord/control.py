"""The driver over HTTP, under `/_fake/...`, for standalone runs and cross-process demos."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .driver import FakeDriver
from .models import (
    AdvanceClock,
    DropGateway,
    InjectDirectMessage,
    InjectFault,
    InjectMessage,
    InjectSlash,
    InteractionView,
    MessageView,
    SetPermission,
)
from .payloads import channel_payload, user_payload
from .wire import DiscordError, json_response

Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.Response]]


async def _body(request: web.Request, model: type[Model]) -> Model:
    try:
        return model.model_validate_json(await request.read() or b"{}")
    except ValidationError as error:
        raise web.HTTPBadRequest(text=error.json(), content_type="application/json") from None


def _model(value: BaseModel | list[BaseModel]) -> web.Response:
    if isinstance(value, list):
        return json_response([item.model_dump(mode="json") for item in value])
    return json_response(value.model_dump(mode="json"))


def add_control_routes(app: web.Application, fake: FakeDriver) -> None:
    async def state(request: web.Request) -> web.Response:
        world = fake.world
        payload: dict[str, Any] = {
            "api_base": fake.base_url + "/api/v10",
            "gateway_url": fake.gateway_url,
            "token": fake.config.token,
            "application_id": str(fake.application_id),
            "bot": user_payload(fake.bot),
            "users": [user_payload(user) for user in world.users.values()],
            "channels": [channel_payload(world, channel) for channel in world.channels.values()],
            "webhooks": [
                {"id": str(h.id), "channel_id": str(h.channel_id), "name": h.name} for h in world.webhooks.values()
            ],
        }
        return json_response(payload)

    async def inject_message(request: web.Request) -> web.Response:
        body = await _body(request, InjectMessage)
        message = await fake.user_sends(
            body.channel,
            body.user,
            body.content,
            mention_bot=body.mention_bot,
            reply_to=body.reply_to,
            ping_author=body.ping_author,
        )
        return _model(MessageView.of(fake, message))

    async def inject_dm(request: web.Request) -> web.Response:
        body = await _body(request, InjectDirectMessage)
        return _model(MessageView.of(fake, await fake.dm(body.user, body.content)))

    async def inject_slash(request: web.Request) -> web.Response:
        body = await _body(request, InjectSlash)
        record = await fake.slash(body.channel, body.user, body.name, body.options)
        return _model(InteractionView.of(record))

    async def interaction(request: web.Request) -> web.Response:
        return _model(fake.interaction_view(int(request.match_info["interaction_id"])))

    async def transcript(request: web.Request) -> web.Response:
        include_deleted = request.query.get("include_deleted") == "1"
        return _model(list(fake.transcript(request.match_info["channel"], include_deleted=include_deleted)))

    async def advance_interactions(request: web.Request) -> web.Response:
        body = await _body(request, AdvanceClock)
        fake.advance_interaction_clock(body.seconds)
        return json_response({"advanced": body.seconds})

    async def counters(request: web.Request) -> web.Response:
        return _model(fake.counters())

    async def manage_webhooks(request: web.Request) -> web.Response:
        body = await _body(request, SetPermission)
        await fake.set_manage_webhooks(request.match_info["channel"], body.allowed)
        return json_response({"channel": request.match_info["channel"], "manage_webhooks": body.allowed})

    async def drop_gateway(request: web.Request) -> web.Response:
        body = await _body(request, DropGateway)
        return json_response({"dropped": await fake.drop_gateway(body.code)})

    async def inject_fault(request: web.Request) -> web.Response:
        body = await _body(request, InjectFault)
        fake.fail_next(**body.model_dump())
        return json_response({"faults": len(fake.faults)})

    async def calls(request: web.Request) -> web.Response:
        records = fake.calls(request.query.get("method"), request.query.get("route"))
        return json_response(
            [
                {"at": r.at, "method": r.method, "path": r.path, "route": r.route, "status": r.status,
                 "payload": r.payload, "query": r.query}
                for r in records
            ]
        )

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/_fake/state", state),
        ("POST", "/_fake/messages", inject_message),
        ("POST", "/_fake/dm", inject_dm),
        ("POST", "/_fake/slash", inject_slash),
        ("POST", "/_fake/interactions/advance", advance_interactions),
        ("GET", "/_fake/interactions/{interaction_id}", interaction),
        ("GET", "/_fake/channels/{channel}/transcript", transcript),
        ("POST", "/_fake/channels/{channel}/manage_webhooks", manage_webhooks),
        ("GET", "/_fake/counters", counters),
        ("GET", "/_fake/calls", calls),
        ("POST", "/_fake/gateway/drop", drop_gateway),
        ("POST", "/_fake/faults", inject_fault),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _reporting_errors(handler))


def _reporting_errors(handler: Handler) -> Handler:
    """Unknown names become 404s and Discord-side refusals keep their status, instead of 500s."""

    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except DiscordError as error:
            return json_response(error.body(), status=error.status)
        except KeyError as error:
            return json_response({"message": str(error.args[0] if error.args else error)}, status=404)

    return guarded
