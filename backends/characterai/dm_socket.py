"""One DM ("neo") websocket, carrying one command at a time, as every known client does.

A supervisor task keeps it open: after a drop it reconnects with exponential backoff. The pool
(``dm_pool.DmPool``) reserves an idle socket for a request; the socket then writes the command and hands every
frame to that request until the request is closed. A drop hands the request in flight a ``ConnectionDropped``
so it can recover; nothing else is affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import log
from backends.characterai.transport import ConnectionDropped, next_delay, open_websocket
from bot.upstream.base import ErrorCode, UpstreamError

Frame = dict[str, Any]


class NotSent(Exception):
    """The socket closed before the command could be written (internal: the pool tries another socket)."""


class PendingRequest:
    """The frames of the one request in flight on a socket, in arrival order.

    Call ``finish`` once the server's answer is complete (a final turn, an error frame...). A request closed
    without it (it timed out, or its reader gave up) may leave the server still answering on the socket, so
    the socket is reset then (``reset_on_timeout``) before it carries anything else.
    """

    def __init__(self, socket: DmSocket, request_id: str) -> None:
        self.request_id = request_id
        self.finished = False
        self._socket = socket
        self._frames: asyncio.Queue[Frame | ConnectionDropped | UpstreamError] = asyncio.Queue()

    def deliver(self, frame: Frame) -> None:
        self._frames.put_nowait(frame)

    def drop(self, reason: str) -> None:
        self._frames.put_nowait(ConnectionDropped(reason))

    def cancel(self, reason: str) -> None:
        """The client is closing: no recovery, the request just ends."""
        self._frames.put_nowait(UpstreamError(ErrorCode.UNAVAILABLE, reason))

    async def next_frame(self, seconds: float, what: str) -> Frame:
        try:
            item = await asyncio.wait_for(self._frames.get(), seconds)
        except TimeoutError:
            raise UpstreamError(ErrorCode.TIMEOUT, f"{what}: no answer within {seconds:g}s") from None
        if isinstance(item, ConnectionDropped):
            raise item
        if isinstance(item, UpstreamError):
            self.finished = True
            raise UpstreamError(item.code, f"{what}: {item.detail}")
        return item

    def finish(self) -> None:
        self.finished = True

    def close(self) -> None:
        """Stop listening and free the socket; frames that still arrive for this request are discarded."""
        self._socket.release(self)


class DmSocket:
    def __init__(self, config: CharacterAIConfig, number: int, on_change: Callable[[], None]) -> None:
        self.number = number
        self.connections_opened = 0
        self.last_error: UpstreamError | None = None
        self._config = config
        self._on_change = on_change
        self._ws: ClientConnection | None = None
        self._current: PendingRequest | None = None
        self._reserved = False
        self._resetting = False
        self._supervisor: asyncio.Task[None] | None = None
        self._reset_task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def idle(self) -> bool:
        """Open and free: no request in flight or promised, no reset under way."""
        ws = self._ws
        free = self._current is None and not self._reserved and not self._resetting
        return free and ws is not None and ws.state is State.OPEN

    @property
    def reconnecting(self) -> bool:
        """Closed or closing (a drop, a reset): it will be back after the reconnect."""
        ws = self._ws
        return ws is None or self._resetting or ws.state is not State.OPEN

    @property
    def failing(self) -> bool:
        """Disconnected after a failed attempt (as opposed to connecting for the first time)."""
        return self._ws is None and self.last_error is not None

    def start(self) -> None:
        if self._supervisor is None:
            self._closing = False
            self._supervisor = asyncio.create_task(self._supervise(), name=f"characterai-dm-socket-{self.number}")

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
        reset, self._reset_task = self._reset_task, None
        if reset is not None:
            with contextlib.suppress(Exception):
                await reset
        pending, self._current = self._current, None
        if pending is not None:
            pending.cancel("the Character.AI client is closing")

    def reserve(self) -> None:
        """Promise this idle socket to one waiting request (the pool's choice)."""
        self._reserved = True

    def unreserve(self) -> None:
        self._reserved = False
        self._on_change()

    async def send(self, command: str, payload: dict[str, Any]) -> PendingRequest:
        """Write one command on this (reserved) socket; read the answer from the returned request."""
        self._reserved = False
        ws = self._ws
        if ws is None or ws.state is not State.OPEN:
            self._on_change()
            raise NotSent
        pending = PendingRequest(self, str(uuid.uuid4()))
        self._current = pending
        frame = {
            "command": command,
            "request_id": pending.request_id,
            "origin_id": self._config.origin_id,
            "payload": payload,
        }
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed:  # it may have left before the connection broke: treat it as sent
            pending.drop("the DM websocket closed while sending")
        log.debug("DM %s sent on socket %d (request %s)", command, self.number, pending.request_id)
        return pending

    def release(self, pending: PendingRequest) -> None:
        if self._current is not pending:
            return  # already dropped with its connection
        self._current = None
        if not pending.finished and self._config.reset_on_timeout:
            self._reset(f"request {pending.request_id} ended before its answer")
        self._on_change()

    def _reset(self, reason: str) -> None:
        """Close the connection (the supervisor reconnects): the server may still be answering the request
        that was given up on, and the next command must not queue behind it."""
        ws = self._ws
        if ws is None:
            return
        log.warning("DM websocket %d: resetting the connection (%s)", self.number, reason)
        self._resetting = True
        self._reset_task = asyncio.create_task(ws.close())

    async def _supervise(self) -> None:
        delay: float | None = None
        while not self._closing:
            try:
                ws = await open_websocket(self._config, self._config.dm_ws_url, "connecting the DM websocket")
            except UpstreamError as exc:
                self.last_error = exc
                self._on_change()
                delay = next_delay(self._config, delay)
                log.warning("DM websocket %d: %s; retrying in %.2gs", self.number, exc.detail, delay)
            else:
                delay = None
                self.last_error = None
                self._ws = ws
                self.connections_opened += 1
                self._on_change()
                log.info("DM websocket %d connected", self.number)
                await self._read(ws)
                self._ws = None
                self._resetting = False
                self._drop_current("the DM websocket closed")
                self._on_change()
                if self._closing:
                    return
                delay = next_delay(self._config, delay)
                log.warning(
                    "DM websocket %d dropped (code %s, reason %r); reconnecting in %.2gs",
                    self.number,
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
        pending = self._current
        if pending is None or (request_id and str(request_id) != pending.request_id):
            # e.g. the tail of an answer given up on without a reset
            log.debug("DM websocket: no request waits for %s (request %s)", frame.get("command"), request_id)
            return
        pending.deliver(frame)

    def _drop_current(self, reason: str) -> None:
        pending, self._current = self._current, None
        self._reserved = False
        if pending is not None:
            pending.drop(reason)
