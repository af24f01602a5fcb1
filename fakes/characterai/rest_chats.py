"""REST endpoints for the account, characters, DM chats and turn history (doc sections 1.5, 4.1, 4.2)."""

from __future__ import annotations

from aiohttp import web

from fakes.characterai.dm_commands import CommandError, accessible_conversation, remove_turn_ids
from fakes.characterai.rest_common import add_route, json_body, user_of, world_of
from fakes.characterai.state import Conversation, history_page
from fakes.characterai.wire import JsonDict, text_or_none


async def web_root(request: web.Request) -> web.Response:
    """``GET https://character.ai/``: clients scrape the ``edge_rollout`` cookie from it."""
    response = web.Response(text="<!doctype html><title>character.ai (fake)</title>", content_type="text/html")
    response.headers["Set-Cookie"] = "edge_rollout=60; Path=/"
    return response


async def profile(request: web.Request) -> web.Response:
    return web.json_response(user_of(request).profile())


async def user_settings(request: web.Request) -> web.Response:
    return web.json_response(world_of(request).settings_of(user_of(request)))


async def update_user_settings(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise CommandError("invalid request: settings must be an object")
    settings = world_of(request).settings_of(user_of(request))
    settings.update(body)
    return web.json_response({"success": True, "settings": settings})


async def ping(request: web.Request) -> web.Response:
    return web.json_response({"status": "pong"})


async def character_info(request: web.Request) -> web.Response:
    """Unknown ids get HTTP 200 with ``status: NOT_OK`` (that is what the service does)."""
    body = await json_body(request)
    character_id = body.get("external_id") if isinstance(body, dict) else None
    character = world_of(request).characters.get(character_id) if isinstance(character_id, str) else None
    if character is None:
        return web.json_response({"status": "NOT_OK", "error": "Character not found"})
    return web.json_response({"character": character.info(), "status": "OK"})


async def search_characters(request: web.Request) -> web.Response:
    query = request.query.get("query", "").lower()
    found = [c.info() for c in world_of(request).characters.values() if query in c.name.lower()]
    return web.json_response({"characters": found, "safety_filtered": False, "tags": [], "uuid": "fake"})


def _recent_wire(request: web.Request, conversation: Conversation) -> JsonDict:
    data = conversation.to_wire()
    character = world_of(request).characters.get(conversation.character_id)
    data.update(
        {
            "character_name": character.name if character else "",
            "character_avatar_uri": character.avatar if character else "",
            "character_visibility": character.visibility if character else "PUBLIC",
            "character_translations": {},
            "default_voice_id": "",
        }
    )
    return data


async def list_chats(request: web.Request) -> web.Response:
    character_ids = [c for c in request.query.get("character_ids", "").split(",") if c]
    preview = int(request.query.get("num_preview_turns", "0") or 0)
    chats = [
        c.to_wire(preview_turns=preview)
        for c in world_of(request).chats_of(user_of(request))
        if not character_ids or c.character_id in character_ids
    ]
    return web.json_response({"chats": chats})


async def recent_chats(request: web.Request) -> web.Response:
    chats = world_of(request).chats_of(user_of(request))
    return web.json_response({"chats": [_recent_wire(request, c) for c in chats if c.state == "STATE_ACTIVE"]})


async def recent_chat_with(request: web.Request) -> web.Response:
    """The latest chat with one character; with none, a 404 ``neo_error`` body without a ``chats`` key."""
    chats = world_of(request).chats_of(user_of(request), request.match_info["character_id"])
    if not chats:
        raise CommandError("no chat with this character", 404)
    return web.json_response({"chats": [_recent_wire(request, chats[0])]})


def _chat(request: web.Request) -> Conversation:
    return accessible_conversation(world_of(request), user_of(request), request.match_info["chat_id"])


async def get_chat(request: web.Request) -> web.Response:
    return web.json_response({"chat": _chat(request).to_wire()})


async def resurrect_chat(request: web.Request) -> web.Response:
    conversation = _chat(request)
    conversation.state = "STATE_ACTIVE"
    return web.json_response({"chat": conversation.to_wire()})


async def update_chat_name(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise CommandError("invalid request: name is required")
    conversation = _chat(request)
    conversation.name = name
    return web.json_response({"chat": conversation.to_wire()})


async def archive_chat(request: web.Request) -> web.Response:
    conversation = _chat(request)
    if conversation.state == "STATE_ARCHIVED":
        raise CommandError("chat is already archived", 400)
    conversation.state = "STATE_ARCHIVED"
    return web.json_response({"chat": conversation.to_wire()})


async def unarchive_chat(request: web.Request) -> web.Response:
    conversation = _chat(request)
    if conversation.state != "STATE_ARCHIVED":
        raise CommandError("chat is not archived", 400)
    conversation.state = "STATE_ACTIVE"
    return web.json_response({"chat": conversation.to_wire()})


async def copy_chat(request: web.Request) -> web.Response:
    source = _chat(request)
    body = await json_body(request)
    end_turn_id = text_or_none(body.get("end_turn_id")) if isinstance(body, dict) else None
    if end_turn_id is not None and source.find_turn(end_turn_id) is None:
        raise CommandError("turn not found", 404)
    copy = world_of(request).copy_chat(source, end_turn_id)
    return web.json_response({"new_chat_id": copy.chat_id})


async def set_preferred_model(request: web.Request) -> web.Response:
    body = await json_body(request)
    model = body.get("preferred_model_type") if isinstance(body, dict) else None
    if not isinstance(model, str) or not model:
        raise CommandError("invalid request: preferred_model_type is required")
    conversation = _chat(request)
    conversation.preferred_model_type = model
    return web.json_response({"chat": conversation.to_wire()})


async def list_turns(request: web.Request) -> web.Response:
    conversation = _chat(request)
    settings = world_of(request).settings
    pinned_only = request.query.get("pinned_only", "").lower() == "true"
    always_final = settings.history_is_final == "always"
    page = history_page(conversation, request.query.get("next_token"), settings.page_size, pinned_only, always_final)
    if page is None:
        raise CommandError("invalid next_token", 400)
    return web.json_response(page)


async def remove_turns(request: web.Request) -> web.Response:
    conversation = _chat(request)
    body = await json_body(request)
    turn_ids = body.get("turn_ids") if isinstance(body, dict) else None
    if not isinstance(turn_ids, list) or not all(isinstance(t, str) for t in turn_ids):
        raise CommandError("invalid request: turn_ids must be a list of strings")
    removed = remove_turn_ids(conversation, turn_ids)
    return web.json_response({"chat_id": conversation.chat_id, "turn_ids": removed})


async def pin_turn(request: web.Request) -> web.Response:
    body = await json_body(request)
    key = body.get("turn_key") if isinstance(body, dict) else None
    if not isinstance(key, dict) or not isinstance(key.get("chat_id"), str):
        raise CommandError("invalid request: turn_key is required")
    conversation = accessible_conversation(world_of(request), user_of(request), key["chat_id"])
    turn = conversation.find_turn(str(key.get("turn_id")))
    if turn is None:
        raise CommandError("turn not found", 404)
    turn.is_pinned = bool(body.get("is_pinned", False))
    return web.json_response({"turn": turn.to_wire()})


def add_chat_routes(app: web.Application) -> None:
    app.router.add_get("/", web_root)
    # plus
    add_route(app, "GET", "/chat/user/", profile)
    add_route(app, "GET", "/chat/user/settings/", user_settings)
    add_route(app, "POST", "/chat/user/update_settings/", update_user_settings)
    add_route(app, "POST", "/chat/character/info/", character_info)
    # neo
    add_route(app, "GET", "/ping/", ping)
    add_route(app, "POST", "/character/v1/get_character_info", character_info)
    add_route(app, "GET", "/search/v1/character", search_characters)
    add_route(app, "GET", "/chats/", list_chats)
    add_route(app, "GET", "/chats/recent/", recent_chats)
    add_route(app, "GET", "/chats/recent/{character_id}", recent_chat_with)
    add_route(app, "GET", "/chat/{chat_id}/", get_chat)
    add_route(app, "GET", "/chat/{chat_id}/resurrect", resurrect_chat)
    add_route(app, "PATCH", "/chat/{chat_id}/update_name", update_chat_name)
    add_route(app, "PATCH", "/chat/{chat_id}/archive", archive_chat)
    add_route(app, "PATCH", "/chat/{chat_id}/unarchive", unarchive_chat)
    add_route(app, "POST", "/chat/{chat_id}/copy", copy_chat)
    add_route(app, "PATCH", "/chat/{chat_id}/preferred-model-type", set_preferred_model)
    add_route(app, "GET", "/turns/{chat_id}/", list_turns)
    add_route(app, "POST", "/turns/{chat_id}/remove", remove_turns)
    add_route(app, "POST", "/turn/pin", pin_turn)
