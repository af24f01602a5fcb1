"""Commands of the DM websocket (``/ws/``), doc section 2.3. Each request gets its frames and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fakes.characterai.faults import Fault
from fakes.characterai.generation import ReplySink, stream_candidate, turn_frame
from fakes.characterai.state import MODEL_TYPE, Candidate, Conversation, FakeUser, Turn
from fakes.characterai.wire import JsonDict, neo_error, sub_dict, text_or_none
from fakes.characterai.world import FakeWorld


class CommandError(Exception):
    """Answered as a ``neo_error`` frame carrying the request's ``request_id``."""

    def __init__(self, comment: str, error_code: int = 400, retry_after_seconds: float | None = None) -> None:
        super().__init__(comment)
        self.comment = comment
        self.error_code = error_code
        self.retry_after_seconds = retry_after_seconds


@dataclass
class Request:
    world: FakeWorld
    user: FakeUser
    sink: ReplySink
    request_id: str | None
    payload: JsonDict
    fault: Fault | None

    async def send(self, frame: JsonDict) -> None:
        await self.sink.send(frame)


Handler = Callable[[Request], Awaitable[None]]


def _dict(value: object, what: str) -> JsonDict:
    if not isinstance(value, dict):
        raise CommandError(f"invalid request: {what} must be an object")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise CommandError(f"invalid request: {what} is required")
    return value


def accessible_conversation(world: FakeWorld, user: FakeUser, chat_id: str) -> Conversation:
    conversation = world.conversations.get(chat_id)
    if conversation is None:
        raise CommandError("chat not found", 404)
    if conversation.kind == "dm" and conversation.creator_id != user.user_id:
        raise CommandError("chat not found", 404)
    if conversation.kind == "room":
        room = world.rooms.get(chat_id)
        if room is None or user.user_id not in room.member_ids:
            raise CommandError("chat not found", 404)
    return conversation


def _turn_from_key(world: FakeWorld, user: FakeUser, payload: JsonDict) -> tuple[Conversation, Turn]:
    key = _dict(payload.get("turn_key"), "turn_key")
    conversation = accessible_conversation(world, user, _str(key.get("chat_id"), "turn_key.chat_id"))
    turn = conversation.find_turn(_str(key.get("turn_id"), "turn_key.turn_id"))
    if turn is None:
        raise CommandError("turn not found", 404)
    return conversation, turn


def check_can_generate(world: FakeWorld, user: FakeUser) -> None:
    retry_after = world.rate_limited(user)
    if retry_after is not None:
        raise CommandError("rate limited", 429, retry_after)


def check_length(world: FakeWorld, text: str) -> None:
    limit = world.settings.max_message_length
    if limit is not None and len(text) > limit:
        raise CommandError(f"message too long (max {limit} characters)", 400)


def user_text_of(turn_payload: JsonDict) -> str:
    candidates = turn_payload.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return str(candidates[0].get("raw_content") or "")
    return ""


async def create_chat(request: Request) -> None:
    world, payload = request.world, request.payload
    chat = _dict(payload.get("chat"), "chat")
    character_id = _str(chat.get("character_id"), "chat.character_id")
    character = world.characters.get(character_id)
    if character is None:
        raise CommandError("character not found", 404)
    chat_id = text_or_none(chat.get("chat_id")) or world.ids.uuid()
    if chat_id in world.conversations:
        raise CommandError("chat already exists", 400)
    model_type = text_or_none(chat.get("preferred_model_type"))
    conversation = world.create_dm(request.user, chat_id, character_id, model_type)
    await request.send(
        {"command": "create_chat_response", "request_id": request.request_id, "chat": conversation.to_wire()}
    )
    if payload.get("with_greeting", True):
        turn, _ = world.add_character_turn(conversation, character, character.greeting, prompt="")
        await request.send(
            turn_frame("add_turn", request.request_id, turn, [turn.primary().to_wire()], "TYPE_ONE_ON_ONE", None)
        )


async def create_turn(request: Request) -> None:
    """A user turn without a reply (CAINode's manual turn)."""
    world, user = request.world, request.user
    turn_payload = _dict(request.payload.get("turn"), "turn")
    key = sub_dict(turn_payload, "turn_key")
    conversation = accessible_conversation(world, user, _str(key.get("chat_id"), "turn.turn_key.chat_id"))
    check_length(world, user_text_of(turn_payload))
    turn = world.add_human_turn(conversation, user, turn_payload)
    await request.send(turn_frame("add_turn", request.request_id, turn, [turn.primary().to_wire()],
                                  conversation.chat_type, None))


async def create_and_generate_turn(request: Request) -> None:
    world, user, payload = request.world, request.user, request.payload
    turn_payload = _dict(payload.get("turn"), "turn")
    key = sub_dict(turn_payload, "turn_key")
    conversation = accessible_conversation(world, user, _str(key.get("chat_id"), "turn.turn_key.chat_id"))
    if conversation.kind != "dm":
        raise CommandError("invalid request: rooms take turns over the room socket", 400)
    character_id = text_or_none(payload.get("character_id")) or conversation.character_id
    character = world.characters.get(character_id)
    if character is None:
        raise CommandError("character not found", 404)
    user_text = user_text_of(turn_payload)
    check_length(world, user_text)
    check_can_generate(world, user)
    if user_text:
        human = world.add_human_turn(conversation, user, turn_payload)
        await request.send(
            turn_frame("add_turn", request.request_id, human, [human.primary().to_wire()], "TYPE_ONE_ON_ONE", None)
        )
    else:  # an empty message means "generate only" (CAINode's generate_turn)
        user_text = world.last_human_text(conversation)
    text = world.reply_text(character, user_text, variant=0)
    turn, candidate = world.add_character_turn(conversation, character, "", prompt=user_text)
    chunk, delay = world.stream_settings(character)
    conversation.generation_count += 1
    await stream_candidate(
        world,
        request.sink,
        request_id=request.request_id,
        turn=turn,
        candidate=candidate,
        full_text=text,
        mode="new_turn",
        chat_type="TYPE_ONE_ON_ONE",
        chunk_chars=chunk,
        delay=delay,
        fault=request.fault,
    )


async def regenerate(
    request: Request, conversation: Conversation, turn: Turn, extra: JsonDict | None = None
) -> None:
    """A new candidate at index 0 of an existing character turn, streamed as ``update_turn`` frames only."""
    world = request.world
    if turn.is_human or turn.character_id is None:
        raise CommandError("invalid request: only character turns can be regenerated", 400)
    character = world.characters.get(turn.character_id)
    if character is None:
        raise CommandError("character not found", 404)
    check_can_generate(world, request.user)
    text = world.reply_text(character, turn.prompt, variant=len(turn.candidates))
    candidate = Candidate(world.ids.uuid(), "", world.clock(), model_type=MODEL_TYPE)
    turn.candidates.insert(0, candidate)
    turn.primary_candidate_id = candidate.candidate_id
    turn.last_update_time = candidate.create_time
    chunk, delay = world.stream_settings(character)
    await stream_candidate(
        world,
        request.sink,
        request_id=request.request_id,
        turn=turn,
        candidate=candidate,
        full_text=text,
        mode="regenerate",
        chat_type=conversation.chat_type,
        chunk_chars=chunk,
        delay=delay,
        fault=request.fault,
        extra=extra,
    )


async def generate_turn_candidate(request: Request) -> None:
    conversation, turn = _turn_from_key(request.world, request.user, request.payload)
    await regenerate(request, conversation, turn)


def apply_edit(request: Request, turn: Turn) -> None:
    payload = request.payload
    new_text = payload.get("new_candidate_raw_content")
    if not isinstance(new_text, str):
        raise CommandError("invalid request: new_candidate_raw_content is required")
    check_length(request.world, new_text)
    candidate_id = text_or_none(payload.get("current_candidate_id"))
    candidate = turn.find_candidate(candidate_id) if candidate_id else turn.primary()
    if candidate is None:
        raise CommandError("candidate not found", 404)
    candidate.raw_content = new_text
    candidate.editor = {"author_id": str(request.user.user_id), "name": request.user.name}
    candidate.base_candidate_id = candidate.candidate_id
    turn.last_update_time = request.world.clock()


async def edit_turn_candidate(request: Request) -> None:
    conversation, turn = _turn_from_key(request.world, request.user, request.payload)
    apply_edit(request, turn)
    await request.send(turn_frame("update_turn", request.request_id, turn,
                                  [c.to_wire() for c in turn.candidates], conversation.chat_type, None))


async def remove_turns(request: Request) -> None:
    world, payload = request.world, request.payload
    chat_id = _str(payload.get("chat_id"), "chat_id")
    conversation = accessible_conversation(world, request.user, chat_id)
    turn_ids = payload.get("turn_ids")
    if not isinstance(turn_ids, list) or not all(isinstance(t, str) for t in turn_ids):
        raise CommandError("invalid request: turn_ids must be a list of strings")
    removed = remove_turn_ids(conversation, turn_ids)
    await request.send({"command": "remove_turns_response", "request_id": request.request_id,
                        "chat_id": chat_id, "turn_ids": removed})


def remove_turn_ids(conversation: Conversation, turn_ids: list[str]) -> list[str]:
    known = {t.turn_id for t in conversation.turns}
    missing = [t for t in turn_ids if t not in known]
    if missing:
        raise CommandError("turn not found", 404)
    conversation.turns = [t for t in conversation.turns if t.turn_id not in set(turn_ids)]
    return list(turn_ids)


async def update_primary_candidate(request: Request) -> None:
    _, turn = _turn_from_key(request.world, request.user, request.payload)
    candidate_id = _str(request.payload.get("candidate_id"), "candidate_id")
    if turn.find_candidate(candidate_id) is None:
        raise CommandError("candidate not found", 404)
    turn.primary_candidate_id = candidate_id
    await request.send({"command": "ok", "request_id": request.request_id})


async def set_turn_pin(request: Request) -> None:
    conversation, turn = _turn_from_key(request.world, request.user, request.payload)
    turn.is_pinned = bool(request.payload.get("is_pinned", False))
    await request.send(turn_frame("update_turn", request.request_id, turn,
                                  [c.to_wire() for c in turn.candidates], conversation.chat_type, None))


DM_HANDLERS: dict[str, Handler] = {
    "create_chat": create_chat,
    "create_turn": create_turn,
    "create_and_generate_turn": create_and_generate_turn,
    "generate_turn_candidate": generate_turn_candidate,
    "edit_turn_candidate": edit_turn_candidate,
    "remove_turns": remove_turns,
    "update_primary_candidate": update_primary_candidate,
    "set_turn_pin": set_turn_pin,
}


def chat_of(payload: JsonDict) -> str | None:
    """The chat a DM command is about (for faults aimed at one chat)."""
    turn_key = sub_dict(sub_dict(payload, "turn"), "turn_key")
    for holder in (turn_key, sub_dict(payload, "turn_key"), sub_dict(payload, "chat"), payload):
        chat_id = text_or_none(holder.get("chat_id"))
        if chat_id is not None:
            return chat_id
    return None


_GENERATION_FAULTS = frozenset({"drop", "stall", "safety_truncate"})


async def answer_fault(request: Request, fault: Fault) -> bool:
    """Play the parts of a fault that replace the normal answer. True when the request is finished."""
    if fault.kind in _GENERATION_FAULTS:
        return False  # they act inside the stream
    await request.world.hold_fault(fault)
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return False
    rid = request.request_id
    if fault.kind == "neo_error":
        await request.send(neo_error(rid, fault.comment, fault.error_code, fault.sub_code, fault.retry_after_seconds))
    elif fault.kind == "rate_limit":
        retry = fault.retry_after_seconds if fault.retry_after_seconds is not None else 1.0
        comment = fault.comment if fault.comment != "injected error" else "rate limited"
        await request.send(neo_error(rid, comment, 429, fault.sub_code, retry))
    elif fault.kind == "self_harm_filter":
        await request.send({"command": "filter_user_input_self_harm", "request_id": rid,
                            "comment": "Self harm message detected"})
    elif fault.kind == "input_filter":
        await request.send({"command": "filter_user_input", "request_id": rid, "comment": "Input filtered"})
    return True
