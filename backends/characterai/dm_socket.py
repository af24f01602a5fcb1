"""The one DM ("neo") websocket of an account, shared by every concurrent request.

A supervisor task keeps it open: after a drop it reconnects with exponential backoff. Each request registers
under its ``request_id`` and reads its own frames; frames without a request id are routed by chat id when only
one request waits on that chat. A drop hands every waiting request a ``ConnectionDropped`` so it can recover.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import log
from backends.characterai.transport import ConnectionDropped, next_delay, open_websocket
from bot.upstream.base import ErrorCode, UpstreamError

Frame = dict[str, Any]


class PendingRequest:
    """The frames of one request, in arrival order."""

    def __init__(self, socket: DmSocket, request_id: str, chat_id: str | None) -> None:
        self.request_id = request_id
        self.chat_id = chat_id
        self._socket = socket
        self._frames: asyncio.Queue[Frame | ConnectionDropped] = asyncio.Queue()

    def deliver(self, frame: Frame) -> None:
        self._frames.put_nowait(frame)

    def drop(self, reason: str) -> None:
        self._frames.put_nowait(ConnectionDropped(reason))

    async def next_frame(self, seconds: float, what: str) -> Frame:
        try:
            item = await asyncio.wait_for(self._frames.get(), seconds)
        except TimeoutError:
            raise UpstreamError(ErrorCode.TIMEOUT, f"{what}: no answer within {seconds:g}s") from None
        if isinstance(item, ConnectionDropped):
            raise item
        return item

    def close(self) -> None:
        """Stop listening; frames that still arrive for this request are discarded."""
        self._socket.forget(self)


def _chat_id_of(frame: Frame) -> str | None:
    for holder in (frame.get("turn"), frame.get("chat")):
        if isinstance(holder, dict):
            key = holder.get("turn_key")
            if isinstance(key, dict) and key.get("chat_id"):
                return str(key["chat_id"])
            if holder.get("chat_id"):
                return str(holder["chat_id"])
    value = frame.get("chat_id")
    return str(value) if value else None


class DmSocket:
    def __init__(self, config: CharacterAIConfig) -> None:
        self._config = config
        self._ws: ClientConnection | None = None
        self._pending: dict[str, PendingRequest] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._last_error: UpstreamError | None = None
        self._closing = False
        self.connections_opened = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def start(self) -> None:
        """Open the socket, or fail: AUTH for a refused token, UNAVAILABLE or TIMEOUT otherwise."""
        if self._supervisor is None:
            self._closing = False
            self._supervisor = asyncio.create_task(self._supervise(), name="characterai-dm-socket")
        await self._wait_connected()

    async def close(self) -> None:
        self._closing = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        self._drop_pending("the client is closing")
        self._pulse()

    async def request(self, command: str, payload: dict[str, Any], chat_id: str | None) -> PendingRequest:
        """Send one command; read the answer with ``next_frame`` and ``close`` the request when done."""
        ws = await self._wait_connected()
        pending = PendingRequest(self, str(uuid.uuid4()), chat_id)
        self._pending[pending.request_id] = pending
        frame = {
            "command": command,
            "request_id": pending.request_id,
            "origin_id": self._config.origin_id,
            "payload": payload,
        }
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed:
            pending.drop("the DM websocket closed while sending")
        log.debug("DM %s sent (request %s)", command, pending.request_id)
        return pending

    async def reset(self, reason: str) -> None:
        """Close the current socket (the supervisor reconnects): a request that timed out may have left the
        server stuck on this connection. Requests still waiting on it recover from the history."""
        ws = self._ws
        if ws is not None:
            log.warning("DM websocket: resetting the connection (%s)", reason)
            await ws.close()

    def forget(self, pending: PendingRequest) -> None:
        self._pending.pop(pending.request_id, None)

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_connected(self) -> ClientConnection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.connect_timeout
        while True:
            if self._closing or self._supervisor is None:
                raise UpstreamError(ErrorCode.UNAVAILABLE, "the Character.AI client is not started")
            if self._ws is not None:
                return self._ws
            error = self._last_error
            if error is not None and error.code is ErrorCode.AUTH:
                raise UpstreamError(error.code, error.detail)
            remaining = deadline - loop.time()
            if remaining <= 0:
                reason = f" (last error: {error.detail})" if error is not None else ""
                raise UpstreamError(
                    ErrorCode.UNAVAILABLE,
                    f"the DM websocket is not connected after {self._config.connect_timeout:g}s{reason}",
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def _supervise(self) -> None:
        delay: float | None = None
        while not self._closing:
            try:
                ws = await open_websocket(self._config, self._config.dm_ws_url, "connecting the DM websocket")
            except UpstreamError as exc:
                self._last_error = exc
                self._pulse()
                delay = next_delay(self._config, delay)
                log.warning("DM websocket: %s; retrying in %.2gs", exc.detail, delay)
            else:
                delay = None
                self._last_error = None
                self._ws = ws
                self.connections_opened += 1
                self._pulse()
                log.info("DM websocket connected")
                await self._read(ws)
                self._ws = None
                self._drop_pending("the DM websocket closed")
                self._pulse()
                if self._closing:
                    return
                delay = next_delay(self._config, delay)
                log.warning(
                    "DM websocket dropped (code %s, reason %r); reconnecting in %.2gs",
                    ws.close_code,
                    ws.close_reason,
                    delay,
                )
            await asyncio.sleep(delay)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
                await self._dispatch(ws, text)
        except ConnectionClosed:
            pass

    async def _dispatch(self, ws: ClientConnection, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            log.warning("DM websocket: ignoring a non-JSON frame (%d bytes)", len(text))
            return
        if not isinstance(frame, dict):
            return
        if not frame:  # keep-alive: answer {} with {}
            with contextlib.suppress(ConnectionClosed):
                await ws.send("{}")
            return
        request_id = frame.get("request_id")
        pending = self._pending.get(str(request_id)) if request_id else None
        if pending is None and not request_id:
            chat_id = _chat_id_of(frame)
            waiting = [p for p in self._pending.values() if chat_id and p.chat_id == chat_id]
            pending = waiting[0] if len(waiting) == 1 else None
        if pending is None:
            log.debug("DM websocket: no request waits for %s (request %s)", frame.get("command"), request_id)
            return
        pending.deliver(frame)

    def _drop_pending(self, reason: str) -> None:
        for pending in list(self._pending.values()):
            pending.drop(reason)
