"""REST endpoints for group rooms ("muroom"), doc section 3.1. Room history is ``GET /turns/{room_id}/``."""

from __future__ import annotations

from aiohttp import web

from fakes.characterai.dm_commands import CommandError
from fakes.characterai.rest_common import add_route, json_body, user_of, world_of
from fakes.characterai.state import Room
from fakes.characterai.wire import JsonDict, sub_dict

PREVIEW_TURNS = 3


def _room_wire(request: web.Request, room: Room, include_turns: bool = False) -> JsonDict:
    world = world_of(request)
    turns = None
    if include_turns:
        turns = list(reversed(world.conversations[room.room_id].turns[-PREVIEW_TURNS:]))
    return room.to_wire(world.characters, world.users, turns)


def _member_room(request: web.Request) -> Room:
    room = world_of(request).rooms.get(request.match_info["room_id"])
    if room is None or user_of(request).user_id not in room.member_ids:
        raise CommandError("room not found", 404)
    return room


def _character_ids(value: object) -> list[str]:
    """``characters`` is a list of ids; objects with ``id`` (or plus-style ``value``) are accepted too."""
    if not isinstance(value, list):
        raise CommandError("invalid request: characters must be a list")
    ids: list[str] = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("id") or item.get("value")
        if not isinstance(item, str) or not item:
            raise CommandError("invalid request: bad character id")
        ids.append(item)
    return ids


async def list_rooms(request: web.Request) -> web.Response:
    world, user = world_of(request), user_of(request)
    include_turns = request.query.get("include_turns", "false").lower() == "true"
    rooms = [r for r in world.rooms.values() if user.user_id in r.member_ids]
    return web.json_response({"rooms": [_room_wire(request, r, include_turns) for r in rooms]})


async def create_room(request: web.Request) -> web.Response:
    world, user = world_of(request), user_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise CommandError("invalid request: body must be an object")
    character_ids = _character_ids(body.get("characters"))
    unknown = [c for c in character_ids if c not in world.characters]
    if not character_ids or unknown:
        raise CommandError(f"character not found: {', '.join(unknown) or 'none given'}", 400)
    settings = sub_dict(body, "settings")
    room = world.create_room(
        user,
        character_ids,
        title=str(body.get("title") or "Room"),
        visibility=str(body.get("visibility") or "VISIBILITY_UNLISTED"),
        settings=settings,
    )
    if body.get("with_greeting", False):
        conversation = world.conversations[room.room_id]
        for character_id in character_ids:
            character = world.characters[character_id]
            world.add_character_turn(conversation, character, character.greeting, prompt="")
    return web.json_response(_room_wire(request, room, include_turns=True))


async def delete_room(request: web.Request) -> web.Response:
    world = world_of(request)
    room = _member_room(request)
    if room.member_ids[0] != user_of(request).user_id:
        raise CommandError("only the owner can delete a room", 403)
    del world.rooms[room.room_id]
    world.conversations.pop(room.room_id, None)
    return web.json_response({"id": room.room_id, "command": "delete"})


async def patch_room(request: web.Request) -> web.Response:
    """JSON-patch list: rename (``replace /muroom/{id}``) and add/remove characters."""
    world = world_of(request)
    room = _member_room(request)
    operations = await json_body(request)
    if not isinstance(operations, list):
        raise CommandError("invalid request: body must be a JSON-patch list")
    added: list[str] = []
    removed: list[str] = []
    base = f"/muroom/{room.room_id}"
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("value"), dict):
            raise CommandError("invalid request: bad patch operation")
        op, path, value = operation.get("op"), operation.get("path"), operation["value"]
        if op == "replace" and path == base and isinstance(value.get("title"), str):
            room.title = value["title"]
        elif op in ("add", "remove") and path == f"{base}/characters":
            character_id = value.get("id")
            if not isinstance(character_id, str) or character_id not in world.characters:
                raise CommandError("character not found", 400)
            if op == "add" and character_id not in room.character_ids:
                room.character_ids.append(character_id)
                added.append(character_id)
            elif op == "remove" and character_id in room.character_ids:
                room.character_ids.remove(character_id)
                removed.append(character_id)
        else:
            raise CommandError("invalid request: unsupported patch operation")
    return web.json_response(
        {
            "id": room.room_id,
            "users": {"added": [], "removed": []},
            "characters": {"added": added, "removed": removed},
            "title": room.title,
            "command": "update",
        }
    )


def _room_by_join_token(request: web.Request, token: object) -> Room:
    room = next((r for r in world_of(request).rooms.values() if r.join_token == token), None)
    if room is None:
        raise CommandError("room not found", 404)
    return room


async def room_by_join_token(request: web.Request) -> web.Response:
    room = _room_by_join_token(request, request.query.get("join_token"))
    return web.json_response(_room_wire(request, room))


async def join_room(request: web.Request) -> web.Response:
    body = await json_body(request)
    room = _room_by_join_token(request, body.get("join_token") if isinstance(body, dict) else None)
    user = user_of(request)
    if user.user_id not in room.member_ids:
        room.member_ids.append(user.user_id)
    return web.json_response(_room_wire(request, room))


def add_room_routes(app: web.Application) -> None:
    add_route(app, "GET", "/murooms/", list_rooms)
    add_route(app, "POST", "/muroom/create", create_room)
    add_route(app, "POST", "/muroom/join", join_room)
    add_route(app, "GET", "/muroom/", room_by_join_token)
    add_route(app, "DELETE", "/muroom/{room_id}/", delete_room)
    add_route(app, "PATCH", "/muroom/{room_id}/", patch_room)
