"""Group rooms: REST management plus the room websocket, with at most ONE connection per room at any moment.

The per-room lock makes connecting, reconnecting and disconnecting of one room strictly sequential, so the
client never opens a second connection for a room. Callers still route all traffic of a room through the room
queue (``bot.ports.RoomQueue``) so that messages and generations of a room do not interleave.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import log
from backends.characterai.history import HistoryReader
from backends.characterai.recovery import Observation, follow, reply_to
from backends.characterai.rest import RestClient
from backends.characterai.room_socket import RoomConnection
from backends.characterai.streaming import check_frame, frame_turn, stream_reply
from backends.characterai.transport import ConnectionDropped, next_delay
from backends.characterai.wire import Profile, Room, Turn
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ErrorCode, UpstreamError

ROOM_CHAT_TYPE = "TYPE_MU_ROOM"


class _Backoff:
    """Per-room reconnect pacing: after a drop or a failed join, wait before the next attempt."""

    def __init__(self) -> None:
        self.delay: float | None = None
        self.not_before = 0.0


class RoomManager:
    def __init__(self, config: CharacterAIConfig, rest: RestClient, history: HistoryReader, profile: Profile):
        self._config = config
        self._rest = rest
        self._history = history
        self._profile = profile
        self._connections: dict[str, RoomConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._backoff: dict[str, _Backoff] = {}

    # ----- REST -----

    async def list_rooms(self) -> list[Room]:
        return await self._rest.rooms()

    async def create_room(self, character_ids: list[str], title: str, with_greeting: bool = True) -> Room:
        return await self._rest.create_room(character_ids, title, with_greeting)

    async def delete_room(self, room_id: str) -> None:
        await self.disconnect(room_id)
        await self._rest.delete_room(room_id)

    # ----- connection guard -----

    def is_connected(self, room_id: str) -> bool:
        connection = self._connections.get(room_id)
        return connection is not None and connection.is_open

    async def connect(self, room_id: str) -> RoomConnection:
        """The room's live connection, opening it (after the backoff delay, if it dropped) when needed."""
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            connection = self._connections.get(room_id)
            if connection is not None and connection.is_open:
                return connection
            backoff = self._backoff.setdefault(room_id, _Backoff())
            if connection is not None:  # dropped: release it fully before a new one may exist
                del self._connections[room_id]
                await connection.close(unsubscribe=False)
                self._note_failure(backoff)
            wait = backoff.not_before - asyncio.get_running_loop().time()
            if wait > 0:
                log.info("room %s: reconnecting in %.2gs", room_id, wait)
                await asyncio.sleep(wait)
            try:
                connection = await RoomConnection.open(self._config, room_id)
            except UpstreamError:
                self._note_failure(backoff)
                raise
            backoff.delay = None
            self._connections[room_id] = connection
            return connection

    def _note_failure(self, backoff: _Backoff) -> None:
        backoff.delay = next_delay(self._config, backoff.delay)
        backoff.not_before = asyncio.get_running_loop().time() + backoff.delay

    async def disconnect(self, room_id: str) -> None:
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            connection = self._connections.pop(room_id, None)
            self._backoff.pop(room_id, None)
            if connection is not None:
                await connection.close()
                log.info("room %s: disconnected", room_id)

    async def _after_error(self, room_id: str, exc: UpstreamError) -> None:
        """After a timeout the connection may be stuck: close it; the next operation opens a fresh one."""
        if exc.code is not ErrorCode.TIMEOUT or not self._config.reset_on_timeout:
            return
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            connection = self._connections.pop(room_id, None)
            if connection is not None:
                log.warning("room %s: resetting the connection (%s)", room_id, exc.detail)
                await connection.close(unsubscribe=False)

    async def close(self) -> None:
        for room_id in list(self._connections):
            await self.disconnect(room_id)

    # ----- messages -----

    def _envelope(self, command: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "command": command,
            "request_id": str(uuid.uuid4()),
            "origin_id": self._config.origin_id,
            "payload": payload,
        }

    async def send(self, room_id: str, text: str) -> Turn:
        """Post a user message (no generation); returns the stored human turn."""
        what = f"posting to room {room_id}"
        turn_id = str(uuid.uuid4())
        payload = {
            "chat_type": ROOM_CHAT_TYPE,
            "num_candidates": 1,
            "user_name": self._profile.username,
            "turn": {
                "turn_key": {"turn_id": turn_id, "chat_id": room_id},
                "author": {
                    "author_id": str(self._profile.user_id),
                    "is_human": True,
                    "name": self._profile.username,
                },
                "candidates": [{"candidate_id": turn_id, "raw_content": text}],
                "primary_candidate_id": turn_id,
            },
        }
        connection = await self.connect(room_id)
        request = await connection.rpc(self._envelope("create_turn", payload))
        try:
            while True:
                frame = await request.next_frame(self._config.request_timeout, what)
                command = check_frame(frame, what)
                turn = frame_turn(frame) if command == "add_turn" else None
                if turn is not None and turn.author.is_human and turn.primary.is_final:
                    return turn
        except UpstreamError as exc:
            await self._after_error(room_id, exc)
            raise
        except ConnectionDropped:
            found = await self._history.find_turn(room_id, turn_id)
            if found is None:
                raise UpstreamError(
                    ErrorCode.UNAVAILABLE,
                    f"{what}: the room connection dropped before the message was stored",
                ) from None
            return found
        finally:
            request.close()

    async def generate(
        self, room_id: str, character_id: str | None = None
    ) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        """Ask a character (the given one, or the room's choice) for the next turn; streams like ``send``."""
        what = f"generating the next turn in room {room_id}"
        payload: dict[str, Any] = {
            "chat_type": ROOM_CHAT_TYPE,
            "chat_id": room_id,
            "user_name": self._profile.username,
        }
        if character_id:
            payload["character_id"] = character_id
        else:
            payload.update({"smart_reply": "CHARACTERS", "smart_reply_delay": 0})
        connection = await self.connect(room_id)
        request = await connection.rpc(self._envelope("generate_turn", payload))

        def recover(reply_turn_id: str | None) -> AsyncIterator[Observation]:
            return follow(self._config, self._history, room_id, reply_to(None, reply_turn_id), what)

        try:
            async for event in stream_reply(self._config, request, what, recover):
                yield event
        except UpstreamError as exc:
            await self._after_error(room_id, exc)
            raise
