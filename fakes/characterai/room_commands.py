"""Room commands carried by Centrifugo RPC (``method: "unused_command"``); results go out as channel
pushes on ``room:<id>``, to every subscriber of the room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.characterai.dm_commands import (
    CommandError,
    Request,
    accessible_conversation,
    answer_fault,
    apply_edit,
    check_can_generate,
    check_length,
    regenerate,
    user_text_of,
)
from fakes.characterai.generation import stream_candidate, turn_frame
from fakes.characterai.wire import JsonDict, neo_error, text_or_none

if TYPE_CHECKING:
    from fakes.characterai.room_socket import RoomConnection

ROOM_CHAT_TYPE = "TYPE_MU_ROOM"
SMART_REPLY_STATUS = "SMART_REPLY_STATUS_UNSPECIFIED"


class RoomSink:
    """Frames of one room request: published on the room channel; ``drop`` closes the sender's socket."""

    def __init__(self, connection: RoomConnection, channel: str) -> None:
        self._connection = connection
        self._channel = channel

    async def send(self, frame: JsonDict) -> None:
        await self._connection.world.hub.publish(self._channel, frame)

    async def drop(self, close_code: int | None) -> None:
        if close_code is None:
            await self._connection.abort()
        else:
            await self._connection.close(close_code, "fake: injected drop")

    def generation_done(self) -> None:
        """Rooms are not counted per connection (their rule is one connection per room)."""


def room_id_of(command: str, payload: JsonDict) -> str | None:
    if command == "create_turn":
        turn = payload.get("turn")
        key = turn.get("turn_key") if isinstance(turn, dict) else None
        return text_or_none(key.get("chat_id")) if isinstance(key, dict) else None
    if command == "generate_turn":
        return text_or_none(payload.get("chat_id"))
    key = payload.get("turn_key")
    return text_or_none(key.get("chat_id")) if isinstance(key, dict) else None


async def run_room_command(connection: RoomConnection, command_id: int, rpc: JsonDict) -> None:
    if rpc.get("method") != "unused_command":
        await connection.error(command_id, 104, "method not found")
        return
    data = rpc.get("data")
    command = data.get("command") if isinstance(data, dict) else None
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(command, str) or not isinstance(payload, dict):
        await connection.error(command_id, 107, "bad request")
        return
    room_id = room_id_of(command, payload)
    channel = f"room:{room_id}"
    if room_id is None or not connection.world.hub.is_subscribed(channel, connection):
        await connection.error(command_id, 103, "permission denied")
        return
    if connection.world.settings.room_rpc_reply:
        await connection.send({"id": command_id, "rpc": {"data": {}}})
    raw_id = data.get("request_id")
    request = Request(
        connection.world, connection.user, RoomSink(connection, channel),
        raw_id if isinstance(raw_id, str) else None, payload, None,
    )
    fault = connection.world.take_ws_fault("room", command, room_id)
    if fault is not None:
        if await answer_fault(request, fault):
            return
        request.fault = fault
    handler = _HANDLERS.get(command)
    try:
        if handler is None:
            raise CommandError(f"unknown command: {command}", 400)
        await handler(request, room_id)
    except CommandError as error:
        await request.send(neo_error(request.request_id, error.comment, error.error_code, None,
                                     error.retry_after_seconds))


async def _create_turn(request: Request, room_id: str) -> None:
    world, user = request.world, request.user
    conversation = accessible_conversation(world, user, room_id)
    turn_payload = request.payload.get("turn")
    assert isinstance(turn_payload, dict)
    check_length(world, user_text_of(turn_payload))
    turn = world.add_human_turn(conversation, user, turn_payload)
    await request.send(turn_frame("add_turn", request.request_id, turn, [turn.primary().to_wire()],
                                  ROOM_CHAT_TYPE, None))


async def _generate_turn(request: Request, room_id: str) -> None:
    world = request.world
    conversation = accessible_conversation(world, request.user, room_id)
    room = world.rooms[room_id]
    if not any(c in world.characters for c in room.character_ids):
        raise CommandError("room has no characters", 400)
    character = world.room_speaker(room, conversation, text_or_none(request.payload.get("character_id")))
    check_can_generate(world, request.user)
    prompt = world.last_human_text(conversation)
    text = world.reply_text(character, prompt, variant=0)
    turn, candidate = world.add_character_turn(conversation, character, "", prompt=prompt)
    conversation.generation_count += 1
    chunk, delay = world.stream_settings(character)
    await stream_candidate(
        world,
        request.sink,
        request_id=request.request_id,
        turn=turn,
        candidate=candidate,
        full_text=text,
        mode="new_turn",
        chat_type=ROOM_CHAT_TYPE,
        chunk_chars=chunk,
        delay=delay,
        fault=request.fault,
        extra={"smart_reply_status": SMART_REPLY_STATUS},
    )


async def _generate_turn_candidate(request: Request, room_id: str) -> None:
    conversation = accessible_conversation(request.world, request.user, room_id)
    key = request.payload.get("turn_key")
    turn = conversation.find_turn(str(key.get("turn_id"))) if isinstance(key, dict) else None
    if turn is None:
        raise CommandError("turn not found", 404)
    await regenerate(request, conversation, turn, extra={"smart_reply_status": SMART_REPLY_STATUS})


async def _edit_turn_candidate(request: Request, room_id: str) -> None:
    conversation = accessible_conversation(request.world, request.user, room_id)
    key = request.payload.get("turn_key")
    turn = conversation.find_turn(str(key.get("turn_id"))) if isinstance(key, dict) else None
    if turn is None:
        raise CommandError("turn not found", 404)
    apply_edit(request, turn)
    await request.send(turn_frame("update_turn", request.request_id, turn,
                                  [c.to_wire() for c in turn.candidates], ROOM_CHAT_TYPE, None))


_HANDLERS = {
    "create_turn": _create_turn,
    "generate_turn": _generate_turn,
    "generate_turn_candidate": _generate_turn_candidate,
    "edit_turn_candidate": _edit_turn_candidate,
}
