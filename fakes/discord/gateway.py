"""The gateway websocket: HELLO, heartbeats, IDENTIFY/READY, dispatches with seq, RESUME replay, faults."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from .config import FakeDiscordConfig

_log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
MESSAGE_EVENTS = frozenset({"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"})


class GatewayWorld(Protocol):
    """What the gateway needs to know about the world."""

    def ready_payload(self, session_id: str) -> dict[str, Any]: ...

    def guild_create_payloads(self) -> list[dict[str, Any]]: ...

    def member_chunk(self, guild_id: int) -> list[dict[str, Any]]: ...

    def state_changed(self) -> None: ...


@dataclass(frozen=True)
class GatewayLogEntry:
    at: float
    direction: str  # "send", "recv" or "close"
    op: int
    event: str | None = None
    seq: int | None = None


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self._compressor = zlib.compressobj() if compress else None
        self._send_lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame)
        async with self._send_lock:
            if self.ws.closed:
                return
            if self._compressor is None:
                await self.ws.send_str(text)
            else:
                data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    buffer: deque[dict[str, Any]]
    seq: int = 0
    connection: GatewayConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class GatewayStats:
    connections: int = 0
    identifies: int = 0
    resumes: int = 0
    failed_resumes: int = 0
    replayed_events: int = 0
    heartbeats: int = 0
    last_intents: int | None = None
    close_codes: list[int] = field(default_factory=list)


def _frame(op: int, data: Any, seq: int | None = None, event: str | None = None) -> dict[str, Any]:
    return {"op": op, "d": data, "s": seq, "t": event}


class GatewayHub:
    def __init__(self, config: FakeDiscordConfig, world: GatewayWorld) -> None:
        self._config = config
        self._world = world
        self.sessions: dict[str, GatewaySession] = {}
        self.stats = GatewayStats()
        self.log: deque[GatewayLogEntry] = deque(maxlen=10_000)
        self.ack_heartbeats = True
        self._sockets: set[web.WebSocketResponse] = set()

    # --- the websocket endpoint -----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = self._config.zlib_stream and request.query.get("compress") == "zlib-stream"
        connection = GatewayConnection(ws, compress)
        self._sockets.add(ws)
        self.stats.connections += 1
        session: GatewaySession | None = None
        interval_ms = max(1, int(self._config.heartbeat_interval * 1000))
        await self._send(connection, _frame(HELLO, {"heartbeat_interval": interval_ms}))
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                payload = json.loads(message.data)
                session = await self._on_payload(connection, session, payload) or session
        finally:
            self._sockets.discard(ws)
            if session is not None and session.connection is connection:
                session.connection = None
            if ws.close_code is not None:
                self.stats.close_codes.append(ws.close_code)
            self._log_entry("close", -1)
            self._world.state_changed()
        return ws

    async def _on_payload(
        self, connection: GatewayConnection, session: GatewaySession | None, payload: dict[str, Any]
    ) -> GatewaySession | None:
        op = int(payload.get("op", -1))
        data = payload.get("d")
        if not isinstance(data, dict):
            data = {}
        self._log_entry("recv", op)
        if op == HEARTBEAT:
            self.stats.heartbeats += 1
            if self.ack_heartbeats:
                await self._send(connection, _frame(HEARTBEAT_ACK, None))
            self._world.state_changed()
            return None
        if op == IDENTIFY:
            return await self._identify(connection, data)
        if op == RESUME:
            return await self._resume(connection, data)
        if op == REQUEST_MEMBERS and session is not None:
            await self._members_chunk(session, data)
        return None

    async def _identify(self, connection: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        if data.get("token") != self._config.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            intents=int(data.get("intents", 0)),
            buffer=deque(maxlen=self._config.resume_buffer_size),
            connection=connection,
        )
        self.sessions[session.session_id] = session
        self.stats.identifies += 1
        self.stats.last_intents = session.intents
        await self.dispatch_to(session, "READY", self._world.ready_payload(session.session_id))
        for guild in self._world.guild_create_payloads():
            await self.dispatch_to(session, "GUILD_CREATE", guild)
        self._world.state_changed()
        return session

    async def _resume(self, connection: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self._config.token:
            self.stats.failed_resumes += 1
            await self._send(connection, _frame(INVALID_SESSION, False))
            return None
        last_seq = int(data.get("seq") or 0)
        async with session.lock:
            old = session.connection
            session.connection = connection
            if old is not None and old is not connection:
                await old.ws.close(code=4000)
            for frame in list(session.buffer):
                if frame["s"] > last_seq:
                    self.stats.replayed_events += 1
                    await self._send(connection, frame)
        self.stats.resumes += 1
        await self.dispatch_to(session, "RESUMED", {})
        self._world.state_changed()
        return session

    async def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild_id = int(data["guild_id"])
        chunk = {
            "guild_id": str(guild_id),
            "members": self._world.member_chunk(guild_id),
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self.dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)

    # --- dispatching ------------------------------------------------------------------------------
    async def dispatch(
        self, event: str, data: dict[str, Any], transform: Callable[[GatewaySession, dict[str, Any]], Any] | None = None
    ) -> None:
        """Send an event to every session that may see it; sessions that are offline buffer it for RESUME."""
        for session in list(self.sessions.values()):
            if not self._wants(session, event, data):
                continue
            payload = transform(session, data) if transform is not None else data
            await self.dispatch_to(session, event, payload)

    async def dispatch_to(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        async with session.lock:
            session.seq += 1
            frame = _frame(DISPATCH, data, session.seq, event)
            session.buffer.append(frame)
            if session.connection is not None:
                await self._send(session.connection, frame)

    @staticmethod
    def _wants(session: GatewaySession, event: str, data: dict[str, Any]) -> bool:
        if event not in MESSAGE_EVENTS:
            return True
        needed = GUILD_MESSAGES if data.get("guild_id") else DIRECT_MESSAGES
        return bool(session.intents & needed)

    # --- faults -----------------------------------------------------------------------------------
    async def drop_connections(self, code: int = 4000) -> int:
        """Close every live socket with `code`; sessions stay resumable. Returns how many were closed."""
        dropped = 0
        for session in self.sessions.values():
            connection, session.connection = session.connection, None
            if connection is not None:
                await connection.ws.close(code=code)
                dropped += 1
        return dropped

    async def send_reconnect(self) -> None:
        for session in self.sessions.values():
            if session.connection is not None:
                await self._send(session.connection, _frame(RECONNECT, None))

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        for session_id, session in list(self.sessions.items()):
            if session.connection is not None:
                await self._send(session.connection, _frame(INVALID_SESSION, resumable))
            if not resumable:
                del self.sessions[session_id]

    async def close_all(self) -> None:
        """Server shutdown: close every socket, identified or not."""
        for session in self.sessions.values():
            session.connection = None
        for ws in list(self._sockets):
            await ws.close(code=1001)

    # --- helpers ----------------------------------------------------------------------------------
    async def _send(self, connection: GatewayConnection, frame: dict[str, Any]) -> None:
        self._log_entry("send", frame["op"], frame["t"], frame["s"])
        try:
            await connection.send(frame)
        except (ConnectionResetError, RuntimeError) as exc:
            _log.debug("gateway send failed: %s", exc)

    def _log_entry(self, direction: str, op: int, event: str | None = None, seq: int | None = None) -> None:
        self.log.append(GatewayLogEntry(time.monotonic(), direction, op, event, seq))
