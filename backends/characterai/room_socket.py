"""One room's websocket (Centrifugo JSON protocol): connect, subscribe to ``room:<id>``, RPC, pushes, pings.

Room results arrive as channel publications (pushes) carrying the request's ``request_id``; an RPC may instead
get an id-matched error reply. Both reach the request's ``RoomRequest``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import log
from backends.characterai.streaming import Frame
from backends.characterai.transport import ConnectionDropped, open_websocket
from bot.upstream.base import ErrorCode, UpstreamError

_CENTRIFUGO_CODES: dict[int, ErrorCode] = {
    101: ErrorCode.AUTH,
    102: ErrorCode.NOT_FOUND,
    103: ErrorCode.AUTH,
    104: ErrorCode.INVALID,
    107: ErrorCode.INVALID,
    109: ErrorCode.AUTH,
    110: ErrorCode.AUTH,
    111: ErrorCode.RATE_LIMITED,
}


def centrifugo_error(error: Any, what: str) -> UpstreamError:
    if not isinstance(error, dict):
        return UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: room error {error!r}")
    code = error.get("code")
    message = error.get("message", "")
    if code == 106:
        detail = f"{what}: the room already has an active connection (106 {message})"
        return UpstreamError(ErrorCode.UNAVAILABLE, detail)
    mapped = _CENTRIFUGO_CODES.get(code, ErrorCode.UNAVAILABLE) if isinstance(code, int) else ErrorCode.UNAVAILABLE
    return UpstreamError(mapped, f"{what}: room error {code} {message}")


def split_objects(text: str) -> Iterator[Any]:
    """A frame may hold several JSON objects, concatenated or separated by whitespace / newlines."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        value, index = decoder.raw_decode(text, index)
        yield value


class RoomRequest:
    """The pushes (``pub.data``) of one room request; also receives the RPC's error reply."""

    def __init__(self, connection: RoomConnection, request_id: str) -> None:
        self.request_id = request_id
        self._connection = connection
        self._items: asyncio.Queue[Frame | UpstreamError | ConnectionDropped] = asyncio.Queue()

    def put(self, item: Frame | UpstreamError | ConnectionDropped) -> None:
        self._items.put_nowait(item)

    async def next_frame(self, seconds: float, what: str) -> Frame:
        try:
            item = await asyncio.wait_for(self._items.get(), seconds)
        except TimeoutError:
            raise UpstreamError(ErrorCode.TIMEOUT, f"{what}: no answer within {seconds:g}s") from None
        if isinstance(item, UpstreamError):
            raise UpstreamError(item.code, item.detail, item.retry_after)
        if isinstance(item, ConnectionDropped):
            raise item
        return item

    def finish(self) -> None:
        """Nothing to do: a room's requests are serialised by the room queue, and a timeout resets the room
        connection (``RoomManager``)."""

    def close(self) -> None:
        self._connection.forget(self)


class RoomConnection:
    def __init__(self, config: CharacterAIConfig, room_id: str, ws: ClientConnection) -> None:
        self.room_id = room_id
        self.channel = f"room:{room_id}"
        self._config = config
        self._ws = ws
        self._last_id = 0
        self._replies: dict[int, asyncio.Future[Frame]] = {}
        self._rpc_requests: dict[int, RoomRequest] = {}
        self._requests: dict[str, RoomRequest] = {}
        self._open = True
        self._closer: asyncio.Task[None] | None = None
        self._reader = asyncio.create_task(self._read(), name=f"characterai-room-{room_id}")

    @classmethod
    async def open(cls, config: CharacterAIConfig, room_id: str) -> RoomConnection:
        what = f"joining room {room_id}"
        ws = await open_websocket(config, config.room_ws_url, what)
        connection = cls(config, room_id, ws)
        try:
            reply = await connection._command({"connect": {"name": "js"}}, what)
            if "error" in reply:
                raise centrifugo_error(reply["error"], what)
            reply = await connection._command({"subscribe": {"channel": connection.channel}}, what)
            if "error" in reply:
                raise centrifugo_error(reply["error"], what)
        except BaseException:
            await connection.close(unsubscribe=False)
            raise
        log.info("room %s: connected and subscribed", room_id)
        return connection

    @property
    def is_open(self) -> bool:
        return self._open

    def _next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            await self._ws.send(json.dumps(message))
        except ConnectionClosed:
            raise ConnectionDropped(f"room {self.room_id}: the websocket closed while sending") from None

    async def _command(self, body: dict[str, Any], what: str) -> Frame:
        """A Centrifugo command awaiting its id-matched reply."""
        command_id = self._next_id()
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._replies[command_id] = future
        try:
            await self._send({**body, "id": command_id})
            return await asyncio.wait_for(future, self._config.request_timeout)
        except TimeoutError:
            raise UpstreamError(ErrorCode.TIMEOUT, f"{what}: no reply from the room socket") from None
        except ConnectionDropped:
            raise UpstreamError(ErrorCode.UNAVAILABLE, f"{what}: the room websocket closed") from None
        finally:
            self._replies.pop(command_id, None)

    async def rpc(self, data: dict[str, Any]) -> RoomRequest:
        """Send a C.AI command through ``rpc`` (method "unused_command"); read results from the request."""
        request = RoomRequest(self, str(data["request_id"]))
        if not self._open:
            request.put(ConnectionDropped(f"room {self.room_id}: the websocket is closed"))
            return request
        command_id = self._next_id()
        self._requests[request.request_id] = request
        self._rpc_requests[command_id] = request
        try:
            await self._send({"id": command_id, "rpc": {"method": "unused_command", "data": data}})
        except ConnectionDropped as drop:
            request.put(drop)
        return request

    def forget(self, request: RoomRequest) -> None:
        self._requests.pop(request.request_id, None)
        for command_id, owner in list(self._rpc_requests.items()):
            if owner is request:
                del self._rpc_requests[command_id]

    async def close(self, unsubscribe: bool = True) -> None:
        if self._open and unsubscribe:
            with contextlib.suppress(UpstreamError, ConnectionDropped):
                await asyncio.wait_for(
                    self._command({"unsubscribe": {"channel": self.channel}}, "leaving the room"),
                    self._config.request_timeout,
                )
        self._open = False
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self._fail_all(f"room {self.room_id}: disconnected")

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
                await self._dispatch_frame(text)
        except ConnectionClosed:
            pass
        finally:
            if self._open:
                log.warning(
                    "room %s: websocket dropped (code %s, reason %r)",
                    self.room_id,
                    self._ws.close_code,
                    self._ws.close_reason,
                )
            self._open = False
            self._fail_all(f"room {self.room_id}: the websocket closed")

    async def _dispatch_frame(self, text: str) -> None:
        try:
            items = list(split_objects(text))
        except ValueError:
            log.warning("room %s: ignoring a malformed frame (%d bytes)", self.room_id, len(text))
            return
        for item in items:
            if not isinstance(item, dict):
                continue
            if not item:  # server ping
                with contextlib.suppress(ConnectionClosed):
                    await self._ws.send("{}")
            elif "push" in item:
                self._on_push(item["push"])
            elif isinstance(item.get("id"), int):
                self._on_reply(item)

    def _on_reply(self, reply: Frame) -> None:
        command_id = int(reply["id"])
        future = self._replies.get(command_id)
        if future is not None and not future.done():
            future.set_result(reply)
            return
        request = self._rpc_requests.pop(command_id, None)
        if request is not None and "error" in reply:
            request.put(centrifugo_error(reply["error"], f"room {self.room_id} command"))

    def _on_push(self, push: Any) -> None:
        if not isinstance(push, dict) or push.get("channel", self.channel) != self.channel:
            return
        if "unsubscribe" in push or "disconnect" in push:
            log.warning("room %s: the server ended the subscription: %s", self.room_id, push)
            self._open = False
            self._fail_all(f"room {self.room_id}: unsubscribed by the server")
            self._closer = asyncio.get_running_loop().create_task(self._ws.close())
            return
        pub = push.get("pub")
        data = pub.get("data") if isinstance(pub, dict) else None
        if not isinstance(data, dict):
            return
        request_id = data.get("request_id")
        request = self._requests.get(str(request_id)) if request_id else None
        if request is None and not request_id and len(self._requests) == 1:
            request = next(iter(self._requests.values()))
        if request is not None:
            request.put(data)

    def _fail_all(self, reason: str) -> None:
        for request in list(self._requests.values()):
            request.put(ConnectionDropped(reason))
        for future in self._replies.values():
            if not future.done():
                future.set_exception(ConnectionDropped(reason))
