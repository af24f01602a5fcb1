"""The control API under ``/_fake/``: the HTTP twin of FakeCharacterAI's Python methods (no auth)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError, model_validator

from fakes.characterai.characters import FakeCharacter
from fakes.characterai.faults import Fault
from fakes.characterai.keys import WORLD_KEY
from fakes.characterai.settings import FakeSettings
from fakes.characterai.state import FakeUser
from fakes.characterai.wire import JsonDict
from fakes.characterai.world import FakeWorld, filler_text


class ScriptRequest(BaseModel):
    character_id: str
    text: str | None = None
    length: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_of(self) -> ScriptRequest:
        if (self.text is None) == (self.length is None):
            raise ValueError("give exactly one of text or length")
        return self

    def reply(self) -> str:
        return self.text if self.text is not None else filler_text(self.length or 0)


class UserRequest(BaseModel):
    token: str = Field(min_length=1)
    user: FakeUser


def world_snapshot(world: FakeWorld) -> JsonDict:
    """Everything a test may want to assert on, as plain JSON."""
    return {
        "counters": dict(world.counters),
        "room_violations": world.counters["room_violations"],
        "settings": world.settings.model_dump(),
        "characters": sorted(world.characters),
        "users": [{"user_id": u.user_id, "username": u.username} for u in world.users.values()],
        "chats": [
            {
                "chat_id": c.chat_id,
                "kind": c.kind,
                "character_id": c.character_id,
                "creator_id": c.creator_id,
                "state": c.state,
                "turns": [t.to_wire() for t in c.turns],
            }
            for c in world.conversations.values()
        ],
        "rooms": [
            {"id": r.room_id, "title": r.title, "characters": r.character_ids, "members": r.member_ids}
            for r in world.rooms.values()
        ],
        "channels": world.hub.channels(),
        "dm_sockets": [link.to_wire() for link in world.dm_links],
        "faults": [f.model_dump() for f in world.faults.pending()],
        "scripts": {k: list(v) for k, v in world.scripts.items() if v},
    }


def _world(request: web.Request) -> FakeWorld:
    return request.app[WORLD_KEY]


async def _model(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(await request.text())
    except ValidationError as error:
        raise web.HTTPBadRequest(text=error.json(), content_type="application/json") from error


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(world_snapshot(_world(request)))


async def get_counters(request: web.Request) -> web.Response:
    world = _world(request)
    always = ("room_violations", "dm_generation_overlaps", "dm_generations_peak")
    return web.json_response({**{key: world.counters[key] for key in always}, **world.counters})


async def get_dm_sockets(request: web.Request) -> web.Response:
    """Generations in flight per DM connection (a client should never have more than one)."""
    return web.json_response({"dm_sockets": [link.to_wire() for link in _world(request).dm_links]})


async def get_received(request: web.Request) -> web.Response:
    channel = request.query.get("channel")
    command = request.query.get("command")
    messages = [
        m.model_dump()
        for m in _world(request).received
        if channel in (None, m.channel) and command in (None, m.command)
    ]
    return web.json_response({"received": messages})


async def clear_received(request: web.Request) -> web.Response:
    _world(request).received.clear()
    return web.json_response({"ok": True})


async def add_character(request: web.Request) -> web.Response:
    character: FakeCharacter = await _model(request, FakeCharacter)
    _world(request).characters[character.id] = character
    return web.json_response({"ok": True, "character": character.model_dump()})


async def add_user(request: web.Request) -> web.Response:
    body: UserRequest = await _model(request, UserRequest)
    _world(request).users_by_token[body.token] = body.user
    return web.json_response({"ok": True})


async def script_reply(request: web.Request) -> web.Response:
    body: ScriptRequest = await _model(request, ScriptRequest)
    world = _world(request)
    if body.character_id not in world.characters:
        raise web.HTTPNotFound(text="unknown character")
    world.script_reply(body.character_id, body.reply())
    return web.json_response({"ok": True})


async def add_fault(request: web.Request) -> web.Response:
    fault: Fault = await _model(request, Fault)
    _world(request).faults.add(fault)
    return web.json_response({"ok": True, "fault": fault.model_dump()})


async def clear_faults(request: web.Request) -> web.Response:
    _world(request).faults.clear()
    return web.json_response({"ok": True})


async def patch_settings(request: web.Request) -> web.Response:
    world = _world(request)
    try:
        changes = await request.json()
        world.settings = FakeSettings.model_validate({**world.settings.model_dump(), **changes})
    except (ValueError, TypeError, ValidationError) as error:
        raise web.HTTPBadRequest(text=str(error)) from error
    return web.json_response({"ok": True, "settings": world.settings.model_dump()})


async def release_stalls(request: web.Request) -> web.Response:
    _world(request).release_stalls()
    return web.json_response({"ok": True})


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/_fake/state", get_state)
    app.router.add_get("/_fake/counters", get_counters)
    app.router.add_get("/_fake/dm_sockets", get_dm_sockets)
    app.router.add_get("/_fake/received", get_received)
    app.router.add_delete("/_fake/received", clear_received)
    app.router.add_post("/_fake/characters", add_character)
    app.router.add_post("/_fake/users", add_user)
    app.router.add_post("/_fake/script", script_reply)
    app.router.add_post("/_fake/faults", add_fault)
    app.router.add_delete("/_fake/faults", clear_faults)
    app.router.add_patch("/_fake/settings", patch_settings)
    app.router.add_post("/_fake/release_stalls", release_stalls)
