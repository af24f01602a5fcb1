"""The room websocket ``/connection/websocket`` (Centrifugo JSON protocol, doc section 3.2), with the
one-active-connection-per-room rule of section 3.3."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from fakes.characterai.auth import token_from_cookie
from fakes.characterai.keys import SOCKETS_KEY, WORLD_KEY
from fakes.characterai.room_commands import run_room_command
from fakes.characterai.state import FakeUser
from fakes.characterai.wire import JsonDict, iter_json_objects
from fakes.characterai.world import FakeWorld

CLOSE_TIMEOUT = 1.0
EPOCH = "fake-epoch"
UNSUBSCRIBE_EVICTED = 2500  # Centrifugo server-side unsubscribe code (>= 2500: client should not resubscribe)


class RoomConnection:
    def __init__(self, world: FakeWorld, user: FakeUser, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.world = world
        self.user = user
        self.ws = ws
        self.request = request
        self.connection_id = world.ids.uuid()
        self.rpc_queue: asyncio.Queue[tuple[int, JsonDict]] = asyncio.Queue()
        self.dropped = False
        self._ping_task: asyncio.Task[None] | None = None

    # ----- Subscriber protocol -----

    async def send(self, frame: JsonDict) -> None:
        if not self.ws.closed:
            await self.ws.send_json(frame)

    async def close(self, code: int, reason: str) -> None:
        self.dropped = True
        await self.ws.close(code=code, message=reason.encode())

    async def abort(self) -> None:
        self.dropped = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    # ----- commands -----

    async def handle(self, command: JsonDict) -> None:
        raw_id = command.get("id")
        command_id = raw_id if isinstance(raw_id, int) else 0
        if "connect" in command:
            await self._connect(command_id)
        elif "subscribe" in command:
            await self._subscribe(command_id, command["subscribe"])
        elif "unsubscribe" in command:
            await self._unsubscribe(command_id, command["unsubscribe"])
        elif "rpc" in command:
            self.rpc_queue.put_nowait((command_id, command["rpc"] if isinstance(command["rpc"], dict) else {}))
        elif command_id:
            await self.error(command_id, 104, "method not found")

    async def error(self, command_id: int, code: int, message: str) -> None:
        await self.send({"id": command_id, "error": {"code": code, "message": message}})

    async def _connect(self, command_id: int) -> None:
        interval = self.world.settings.ping_interval
        await self.send(
            {
                "id": command_id,
                "connect": {"client": self.connection_id, "version": "0.0.0-fake", "ping": int(interval),
                            "pong": True},
            }
        )
        if self._ping_task is None:
            self._ping_task = asyncio.create_task(self._ping_loop(interval))

    async def _ping_loop(self, interval: float) -> None:
        with contextlib.suppress(ConnectionError):
            while not self.ws.closed:
                await asyncio.sleep(interval)
                self.world.counters["room_pings_sent"] += 1
                await self.send({})

    async def _subscribe(self, command_id: int, body: object) -> None:
        channel = body.get("channel") if isinstance(body, dict) else None
        if not isinstance(channel, str):
            await self.error(command_id, 107, "bad request")
            return
        hub, world = self.world.hub, self.world
        if channel.startswith("user#"):
            if channel != f"user#{self.user.user_id}":
                await self.error(command_id, 103, "permission denied")
                return
            hub.subscribe(channel, self)
            await self.send({"id": command_id, "subscribe": {}})
            return
        room = world.rooms.get(channel.removeprefix("room:")) if channel.startswith("room:") else None
        if room is None:
            await self.error(command_id, 102, "unknown channel")
            return
        if self.user.user_id not in room.member_ids:
            await self.error(command_id, 103, "permission denied")
            return
        if hub.is_subscribed(channel, self):
            await self.error(command_id, 105, "already subscribed")
            return
        holders = hub.subscribers(channel)
        if holders:
            world.counters["room_violations"] += 1
            if world.settings.room_mode == "reject":
                await self.error(command_id, 106, "limit exceeded")
                return
            for holder in holders:
                hub.unsubscribe(channel, holder)
                await self._evict(holder, channel)
        hub.subscribe(channel, self)
        world.counters["room_subscriptions"] += 1
        await self.send({"id": command_id, "subscribe": {"recoverable": True, "epoch": EPOCH, "positioned": True}})

    async def _evict(self, holder: object, channel: str) -> None:
        assert isinstance(holder, RoomConnection)
        code = self.world.settings.evict_close_code
        if code is not None:
            await holder.close(code, "connection limit")
        else:
            await holder.send(
                {"push": {"channel": channel, "unsubscribe": {"code": UNSUBSCRIBE_EVICTED,
                                                               "reason": "connection limit"}}}
            )

    async def _unsubscribe(self, command_id: int, body: object) -> None:
        channel = body.get("channel") if isinstance(body, dict) else None
        if isinstance(channel, str):
            self.world.hub.unsubscribe(channel, self)
        await self.send({"id": command_id, "unsubscribe": {}})

    async def work(self) -> None:
        """RPCs run one at a time per connection; connect/subscribe replies are never delayed by them."""
        while not self.dropped:
            command_id, rpc = await self.rpc_queue.get()
            await run_room_command(self, command_id, rpc)

    def shutdown(self) -> None:
        if self._ping_task is not None:
            self._ping_task.cancel()
        self.world.hub.forget(self)


async def room_socket(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD_KEY]
    user = world.user_for_token(token_from_cookie(request))
    if user is None:
        world.counters["room_connections_rejected"] += 1
        return web.Response(status=403, text="Forbidden")
    ws = web.WebSocketResponse(timeout=CLOSE_TIMEOUT, autoping=True)
    await ws.prepare(request)
    world.counters["room_connections"] += 1
    sockets = request.app[SOCKETS_KEY]
    sockets.add(ws)
    connection = RoomConnection(world, user, ws, request)
    worker = asyncio.create_task(connection.work())
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                commands = list(iter_json_objects(message.data))
            except ValueError:
                world.record("room", user, None, message.data)
                await ws.close(code=3501, message=b"bad request")
                break
            for command in commands:
                if command == {}:
                    world.counters["room_pongs"] += 1
                    continue
                if not isinstance(command, dict):
                    continue
                world.record("room", user, _command_name(command), command)
                await connection.handle(command)
    finally:
        sockets.discard(ws)
        connection.shutdown()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return ws


def _command_name(command: JsonDict) -> str | None:
    rpc = command.get("rpc")
    if isinstance(rpc, dict):
        data = rpc.get("data")
        if isinstance(data, dict) and isinstance(data.get("command"), str):
            return str(data["command"])
        return "rpc"
    return next((key for key in ("connect", "subscribe", "unsubscribe") if key in command), None)
