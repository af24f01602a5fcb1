"""Plumbing shared by the REST modules: auth middleware, REST faults, neo_error bodies, route helper."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fakes.characterai.auth import token_from_header
from fakes.characterai.dm_commands import CommandError
from fakes.characterai.keys import WORLD_KEY
from fakes.characterai.state import FakeUser
from fakes.characterai.wire import neo_error
from fakes.characterai.world import FakeWorld

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY: web.RequestKey[FakeUser] = web.RequestKey("characterai_user", FakeUser)

# paths served without a token: the character.ai web root (edge_rollout cookie), the control API, sockets
_PUBLIC_PREFIXES = ("/_fake/", "/ws/", "/ws", "/connection/websocket")


def add_route(app: web.Application, method: str, path: str, handler: RouteHandler) -> None:
    """Register ``path`` with and without its trailing slash (clients disagree)."""
    app.router.add_route(method, path, handler)
    other = path[:-1] if path.endswith("/") else path + "/"
    if other:
        app.router.add_route(method, other, handler)


def world_of(request: web.Request) -> FakeWorld:
    return request.app[WORLD_KEY]


def user_of(request: web.Request) -> FakeUser:
    return request[USER_KEY]


def neo_error_response(status: int, comment: str) -> web.Response:
    body = neo_error(None, comment, status)
    body.pop("request_id")
    return web.json_response(body, status=status)


async def json_body(request: web.Request) -> Any:
    """The JSON body, or ``{}`` for an empty one. Garbage raises ``CommandError`` (answered 400)."""
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as error:
        raise CommandError("invalid request: body is not JSON", 400) from error


@web.middleware
async def rest_middleware(request: web.Request, handler: RouteHandler) -> web.StreamResponse:
    path = request.path
    if path == "/" or path.startswith(_PUBLIC_PREFIXES):
        return await handler(request)
    world = world_of(request)
    fault = world.faults.take_rest(path)
    if fault is not None:
        world.record("rest", None, f"{request.method} {path}", None)
        return web.Response(status=fault.status, text=fault.body, content_type=fault.content_type)
    user = world.user_for_token(token_from_header(request))
    body: Any = None
    if request.can_read_body:
        try:
            body = await json_body(request)
        except CommandError:
            body = await request.text()
    world.record("rest", user, f"{request.method} {path}", body)
    if user is None:
        world.counters["rest_unauthorized"] += 1
        return web.Response(status=401, text="Unauthorized")
    request[USER_KEY] = user
    try:
        return await handler(request)
    except CommandError as error:
        return neo_error_response(error.error_code, error.comment)
