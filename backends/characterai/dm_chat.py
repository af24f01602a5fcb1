"""One-on-one chats over the DM websocket: create, send (streamed), regenerate, edit, remove.

A reply cut by a dropped connection is looked up in the REST history; if the turn is there and final it is
delivered (once), otherwise the call ends with UNAVAILABLE. A message is never re-sent, so nothing is doubled.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from backends.characterai.config import CharacterAIConfig
from backends.characterai.dm_socket import DmSocket
from backends.characterai.errors import log
from backends.characterai.history import HistoryReader
from backends.characterai.streaming import check_frame, frame_turn, stream_reply
from backends.characterai.transport import ConnectionDropped
from backends.characterai.wire import Profile, Turn
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ErrorCode, NewChat, UpstreamError


class DmChats:
    def __init__(self, config: CharacterAIConfig, socket: DmSocket, history: HistoryReader, profile: Profile):
        self._config = config
        self._socket = socket
        self._history = history
        self._profile = profile

    async def _after_error(self, exc: UpstreamError) -> None:
        if exc.code is ErrorCode.TIMEOUT and self._config.reset_on_timeout:
            await self._socket.reset(exc.detail)

    async def _guarded(
        self, stream: AsyncIterator[ReplySnapshot | ReplyFinal]
    ) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        try:
            async for event in stream:
                yield event
        except UpstreamError as exc:
            await self._after_error(exc)
            raise

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
        pending = await self._socket.request("create_chat", payload, chat_id)
        created = False
        try:
            while True:
                frame = await pending.next_frame(self._config.request_timeout, what)
                command = check_frame(frame, what)
                if command == "create_chat_response":
                    created = True
                    body = frame.get("chat")
                    if isinstance(body, dict) and body.get("chat_id"):
                        chat_id = str(body["chat_id"])
                    if not with_greeting:
                        return NewChat(chat_id=chat_id)
                    continue
                turn = frame_turn(frame) if command == "add_turn" else None
                if created and turn is not None and not turn.author.is_human and turn.primary.is_final:
                    return NewChat(chat_id=chat_id, greeting=turn.text or None)
        except UpstreamError as exc:
            await self._after_error(exc)
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
        pending = await self._socket.request("create_and_generate_turn", payload, chat_id)

        async def recover(reply_turn_id: str | None, seen: str) -> Turn | None:
            return await self._history.find_reply(chat_id, turn_id, reply_turn_id, seen)

        async for event in self._guarded(stream_reply(self._config, pending, what, recover)):
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
        pending = await self._socket.request("generate_turn_candidate", payload, chat_id)

        async def recover(_: str | None, seen: str) -> Turn | None:
            return await self._history.find_new_candidate(chat_id, last.turn_id, old_candidate, seen)

        stream = stream_reply(self._config, pending, what, recover, target_turn_id=last.turn_id)
        async for event in self._guarded(stream):
            yield event

    async def edit_turn(self, chat_id: str, turn_id: str, text: str, candidate_id: str | None = None) -> Turn:
        what = f"editing turn {turn_id} in chat {chat_id}"
        payload: dict[str, Any] = {
            "turn_key": {"chat_id": chat_id, "turn_id": turn_id},
            "new_candidate_raw_content": text,
        }
        if candidate_id:
            payload["current_candidate_id"] = candidate_id
        pending = await self._socket.request("edit_turn_candidate", payload, chat_id)
        try:
            while True:
                frame = await pending.next_frame(self._config.request_timeout, what)
                turn = frame_turn(frame) if check_frame(frame, what) == "update_turn" else None
                if turn is not None and turn.turn_id == turn_id and turn.primary.is_final:
                    return turn
        except UpstreamError as exc:
            await self._after_error(exc)
            raise
        except ConnectionDropped:
            edited = await self._history.find_turn(chat_id, turn_id, text)
            if edited is not None:
                return edited
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the connection dropped before the edit") from None
        finally:
            pending.close()

    async def remove_turns(self, chat_id: str, turn_ids: list[str]) -> None:
        what = f"removing {len(turn_ids)} turn(s) from chat {chat_id}"
        pending = await self._socket.request("remove_turns", {"chat_id": chat_id, "turn_ids": turn_ids}, chat_id)
        try:
            while True:
                frame = await pending.next_frame(self._config.request_timeout, what)
                if check_frame(frame, what) == "remove_turns_response":
                    return
        except UpstreamError as exc:
            await self._after_error(exc)
            raise
        except ConnectionDropped:
            if not await self._history.any_present(chat_id, set(turn_ids)):
                return
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the connection dropped before removal") from None
        finally:
            pending.close()
