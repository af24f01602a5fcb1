"""One-on-one chats over the DM websockets: create, send (streamed), regenerate, edit, remove.

Each command takes a socket of the pool for itself (``DmPool``). A reply cut by a dropped connection is
followed in the REST history until the service has finished it there (``recovery``), then delivered once;
if it never finishes, the call ends with UNAVAILABLE. A message is never re-sent, so nothing is doubled.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from backends.characterai.config import CharacterAIConfig
from backends.characterai.dm_pool import DmPool
from backends.characterai.dm_socket import Frame, PendingRequest
from backends.characterai.errors import log
from backends.characterai.history import HistoryReader
from backends.characterai.recovery import Observation, follow, new_candidate, reply_to
from backends.characterai.streaming import check_frame, frame_turn, stream_reply
from backends.characterai.transport import ConnectionDropped
from backends.characterai.wire import Profile, Turn
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ErrorCode, NewChat, UpstreamError


class DmChats:
    def __init__(self, config: CharacterAIConfig, sockets: DmPool, history: HistoryReader, profile: Profile):
        self._config = config
        self._sockets = sockets
        self._history = history
        self._profile = profile

    def _author(self) -> dict[str, Any]:
        return {"author_id": str(self._profile.user_id), "is_human": True, "name": self._profile.username}

    async def create_chat(self, character_id: str, with_greeting: bool = True) -> NewChat:
        what = f"creating a chat with {character_id}"
        chat_id = str(uuid.uuid4())
        chat: dict[str, Any] = {
            "chat_id": chat_id,
            "creator_id": str(self._profile.user_id),
            "visibility": "VISIBILITY_PRIVATE",
            "character_id": character_id,
            "type": "TYPE_ONE_ON_ONE",
        }
        if self._config.model_type:
            chat["preferred_model_type"] = self._config.model_type
        payload = {"chat": chat, "with_greeting": with_greeting}
        pending = await self._sockets.request("create_chat", payload, what)
        created = False
        try:
            while True:
                frame = await pending.next_frame(self._config.request_timeout, what)
                command = checked(pending, frame, what)
                if command == "create_chat_response":
                    created = True
                    body = frame.get("chat")
                    if isinstance(body, dict) and body.get("chat_id"):
                        chat_id = str(body["chat_id"])
                    if not with_greeting:
                        pending.finish()
                        return NewChat(chat_id=chat_id)
                    continue
                turn = frame_turn(frame) if command == "add_turn" else None
                if created and turn is not None and not turn.author.is_human and turn.primary.is_final:
                    pending.finish()
                    return NewChat(chat_id=chat_id, greeting=turn.text or None)
        except UpstreamError as exc:
            if created and exc.code is ErrorCode.TIMEOUT:
                log.warning("%s: chat %s created but no greeting arrived", what, chat_id)
                return NewChat(chat_id=chat_id)
            raise
        except ConnectionDropped:
            log.warning("%s: the connection dropped; checking whether chat %s exists", what, chat_id)
            return await self._recover_chat(chat_id, what)
        finally:
            pending.close()

    async def _recover_chat(self, chat_id: str, what: str) -> NewChat:
        if not await self._history.chat_exists(chat_id):
            raise UpstreamError(
                ErrorCode.UNAVAILABLE, f"{what}: the connection dropped before the chat was created"
            ) from None
        turns = await self._history.recent(chat_id)
        greeting = next((t.text for t in reversed(turns) if not t.author.is_human), None)
        return NewChat(chat_id=chat_id, greeting=greeting)

    async def send(self, chat_id: str, character_id: str, text: str) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        what = f"sending to chat {chat_id}"
        turn_id, candidate_id = str(uuid.uuid4()), str(uuid.uuid4())
        payload = {
            "character_id": character_id,
            "num_candidates": 1,
            "tts_enabled": False,
            "selected_language": "",
            "user_name": self._profile.username,
            "turn": {
                "turn_key": {"chat_id": chat_id, "turn_id": turn_id},
                "author": self._author(),
                "candidates": [{"candidate_id": candidate_id, "raw_content": text}],
                "primary_candidate_id": candidate_id,
            },
        }
        pending = await self._sockets.request("create_and_generate_turn", payload, what)

        def recover(reply_turn_id: str | None) -> AsyncIterator[Observation]:
            return follow(self._config, self._history, chat_id, reply_to(turn_id, reply_turn_id), what)

        async for event in stream_reply(self._config, pending, what, recover):
            yield event

    async def regenerate(self, chat_id: str, character_id: str) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        what = f"regenerating the last reply in chat {chat_id}"
        last = await self._history.last_turn(chat_id)
        if last is None or last.author.is_human:
            raise UpstreamError(ErrorCode.INVALID, f"{what}: the last turn is not the character's")
        old_candidate = last.primary.candidate_id
        payload = {
            "character_id": character_id,
            "turn_key": {"chat_id": chat_id, "turn_id": last.turn_id},
            "tts_enabled": False,
            "selected_language": "",
            "user_name": self._profile.username,
        }
        pending = await self._sockets.request("generate_turn_candidate", payload, what)

        def recover(_: str | None) -> AsyncIterator[Observation]:
            return follow(self._config, self._history, chat_id, new_candidate(last.turn_id, old_candidate), what)

        async for event in stream_reply(self._config, pending, what, recover, target_turn_id=last.turn_id):
            yield event

    async def edit_turn(self, chat_id: str, turn_id: str, text: str, candidate_id: str | None = None) -> Turn:
        what = f"editing turn {turn_id} in chat {chat_id}"
        payload: dict[str, Any] = {
            "turn_key": {"chat_id": chat_id, "turn_id": turn_id},
            "new_candidate_raw_content": text,
        }
        if candidate_id:
            payload["current_candidate_id"] = candidate_id
        pending = await self._sockets.request("edit_turn_candidate", payload, what)
        try:
            while True:
                frame = await pending.next_frame(self._config.request_timeout, what)
                turn = frame_turn(frame) if checked(pending, frame, what) == "update_turn" else None
                if turn is not None and turn.turn_id == turn_id and turn.primary.is_final:
                    pending.finish()
                    return turn
        except ConnectionDropped:
            edited = await self._history.find_turn(chat_id, turn_id, text)
            if edited is not None:
                return edited
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the connection dropped before the edit") from None
        finally:
            pending.close()

    async def remove_turns(self, chat_id: str, turn_ids: list[str]) -> None:
        what = f"removing {len(turn_ids)} turn(s) from chat {chat_id}"
        pending = await self._sockets.request("remove_turns", {"chat_id": chat_id, "turn_ids": turn_ids}, what)
        try:
            while True:
                frame = await pending.next_frame(self._config.request_timeout, what)
                if checked(pending, frame, what) == "remove_turns_response":
                    pending.finish()
                    return
        except ConnectionDropped:
            if not await self._history.any_present(chat_id, set(turn_ids)):
                return
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the connection dropped before removal") from None
        finally:
            pending.close()


def checked(pending: PendingRequest, frame: Frame, what: str) -> str:
    """``check_frame``; an error frame is the whole answer, so the request is finished then."""
    try:
        return check_frame(frame, what)
    except UpstreamError:
        pending.finish()
        raise
