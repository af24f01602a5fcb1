"""The DM websocket ``/ws/``: cookie auth on the upgrade, then commands handled strictly one at a time.

Generating commands are counted per connection from the moment they arrive until the server has finished
generating them (``dm_links``); a second one arriving meanwhile is flagged, or refused with
``generation_overlap="reject"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from fakes.characterai.auth import token_from_cookie
from fakes.characterai.dm_commands import DM_HANDLERS, CommandError, Request, answer_fault, chat_of
from fakes.characterai.dm_links import NO_TICKET, DmLink, GenerationTicket
from fakes.characterai.faults import GENERATING_COMMANDS
from fakes.characterai.keys import SOCKETS_KEY, WORLD_KEY
from fakes.characterai.state import FakeUser
from fakes.characterai.wire import JsonDict, neo_error
from fakes.characterai.world import FakeWorld

CLOSE_TIMEOUT = 1.0  # seconds to wait for the client's close frame


class SocketSink:
    """Sends frames on one aiohttp websocket; ``drop`` closes it (or aborts TCP when no code is given)."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self._request = request
        self._ws = ws
        self.dropped = False

    async def send(self, frame: JsonDict) -> None:
        if not self._ws.closed:
            await self._ws.send_json(frame)

    async def drop(self, close_code: int | None) -> None:
        self.dropped = True
        if close_code is None:
            transport = self._request.transport
            if transport is not None:
                transport.abort()
            return
        await self._ws.close(code=close_code, message=b"fake: injected drop")

    def generation_done(self) -> None:
        """Only per request (``RequestSink``)."""


class RequestSink:
    """The connection's sink for one request, ending the request's generation ticket."""

    def __init__(self, sink: SocketSink, ticket: GenerationTicket) -> None:
        self._sink = sink
        self._ticket = ticket

    async def send(self, frame: JsonDict) -> None:
        await self._sink.send(frame)

    async def drop(self, close_code: int | None) -> None:
        await self._sink.drop(close_code)

    def generation_done(self) -> None:
        self._ticket.end()


async def dm_socket(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD_KEY]
    user = world.user_for_token(token_from_cookie(request))
    if user is None:
        world.counters["dm_connections_rejected"] += 1
        return web.Response(status=403, text="Forbidden")
    ws = web.WebSocketResponse(timeout=CLOSE_TIMEOUT, autoping=True)
    await ws.prepare(request)
    world.counters["dm_connections"] += 1
    sockets = request.app[SOCKETS_KEY]
    sockets.add(ws)
    sink = SocketSink(request, ws)
    link = world.open_dm_link(user)
    queue: asyncio.Queue[tuple[JsonDict, GenerationTicket]] = asyncio.Queue()
    worker = asyncio.create_task(_work(world, user, sink, queue))
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                world.record("dm", user, None, message.data)
                await ws.send_json(neo_error(None, "invalid request: not JSON", 400))
                continue
            if not isinstance(frame, dict):
                continue
            command = frame.get("command")
            world.record("dm", user, command if isinstance(command, str) else None, frame)
            if isinstance(command, str):  # Centrifugo-style frames and {} are ignored silently
                await _accept(world, link, sink, queue, frame, command)
    finally:
        link.open = False
        sockets.discard(ws)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return ws


async def _accept(
    world: FakeWorld,
    link: DmLink,
    sink: SocketSink,
    queue: asyncio.Queue[tuple[JsonDict, GenerationTicket]],
    frame: JsonDict,
    command: str,
) -> None:
    ticket = link.begin() if command in GENERATING_COMMANDS else NO_TICKET
    if ticket.overlapping and world.settings.generation_overlap == "reject":
        ticket.end()
        raw_id = frame.get("request_id")
        comment = "another generation is still in progress on this connection"
        await sink.send(neo_error(raw_id if isinstance(raw_id, str) else None, comment, 409))
        return
    queue.put_nowait((frame, ticket))


async def _work(
    world: FakeWorld, user: FakeUser, sink: SocketSink, queue: asyncio.Queue[tuple[JsonDict, GenerationTicket]]
) -> None:
    while not sink.dropped:
        frame, ticket = await queue.get()
        try:
            await handle_frame(world, user, RequestSink(sink, ticket), frame)
        finally:
            ticket.end()


async def handle_frame(world: FakeWorld, user: FakeUser, sink: RequestSink, frame: JsonDict) -> None:
    command = str(frame["command"])
    raw_id = frame.get("request_id")
    request_id = raw_id if isinstance(raw_id, str) else None
    payload = frame.get("payload")
    request = Request(world, user, sink, request_id, payload if isinstance(payload, dict) else {}, None)
    fault = world.take_ws_fault("dm", command, chat_of(request.payload))
    if fault is not None:
        if await answer_fault(request, fault):
            return
        request.fault = fault
    handler = DM_HANDLERS.get(command)
    try:
        if handler is None:
            raise CommandError(f"unknown command: {command}", 400)
        if not isinstance(payload, dict):
            raise CommandError("invalid request: payload must be an object", 400)
        await handler(request)
    except CommandError as error:
        await sink.send(neo_error(request_id, error.comment, error.error_code, None, error.retry_after_seconds))
