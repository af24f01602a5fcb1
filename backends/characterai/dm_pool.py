"""A small pool of DM websockets per account; each carries one command at a time.

Requests wait in one first-come, first-served line for an idle socket, and only then is the command written,
so a request's timeouts start when it is actually sent, never while it queues. Sockets open lazily: the
first at start (it checks the token), more (up to ``dm_sockets``) only while requests wait and every open
socket is busy. A dropped socket fails only the request in flight on it; the line waits for the reconnect or
takes another socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from backends.characterai.config import CharacterAIConfig
from backends.characterai.dm_socket import DmSocket, NotSent
from backends.characterai.errors import log
from backends.characterai.pending import PendingRequest
from bot.upstream.base import ErrorCode, UpstreamError


class DmPool:
    def __init__(self, config: CharacterAIConfig) -> None:
        self._config = config
        self._sockets: list[DmSocket] = []
        self._waiters: deque[asyncio.Future[DmSocket]] = deque()
        self._changed = asyncio.Event()
        self._down_since: float | None = None
        self._running = False

    @property
    def connections_opened(self) -> int:
        return sum(socket.connections_opened for socket in self._sockets)

    @property
    def size(self) -> int:
        """Sockets opened so far (they stay open until ``close``)."""
        return len(self._sockets)

    @property
    def waiting(self) -> int:
        """Requests in line for a free socket (not written yet)."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def start(self) -> None:
        """Open the first socket, or fail: AUTH for a refused token, UNAVAILABLE otherwise."""
        if self._running:
            return
        self._running = True
        self._down_since = asyncio.get_running_loop().time()
        self._open_socket()
        socket = await self._acquire("connecting the DM websocket")
        socket.unreserve()

    async def close(self) -> None:
        self._running = False
        sockets, self._sockets = self._sockets, []
        for socket in sockets:
            await socket.close()
        self._pulse()

    async def request(self, command: str, payload: dict[str, Any], what: str) -> PendingRequest:
        """Wait for an idle socket, then write the command; read the answer from the returned request and
        ``close`` it when done."""
        while True:
            socket = await self._acquire(what)
            try:
                return await socket.send(command, payload)
            except NotSent:
                log.info("%s: the DM websocket closed before sending; waiting for another", what)
            except BaseException:
                socket.unreserve()
                raise

    # ----- the line -----

    async def _acquire(self, what: str) -> DmSocket:
        loop = asyncio.get_running_loop()
        arrival = loop.time()
        waiter: asyncio.Future[DmSocket] = loop.create_future()
        self._waiters.append(waiter)
        try:
            self._assign()
            while not waiter.done():
                changed = self._changed
                remaining = self._deadline(arrival) - loop.time()
                if remaining <= 0:
                    raise self._expired(arrival, what)
                self._raise_if_unusable(what)
                pulse = asyncio.ensure_future(changed.wait())
                waiting: set[asyncio.Future[Any]] = {waiter, pulse}
                try:
                    await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    pulse.cancel()
            return waiter.result()
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                waiter.result().unreserve()  # it came just too late: hand it to the next in line
            waiter.cancel()
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _deadline(self, arrival: float) -> float:
        deadline = arrival + self._config.queue_timeout
        if self._down_since is not None:  # no socket is connected: wait for one only connect_timeout
            deadline = min(deadline, max(arrival, self._down_since) + self._config.connect_timeout)
        return deadline

    def _expired(self, arrival: float, what: str) -> UpstreamError:
        if self._down_since is None:
            return UpstreamError(
                ErrorCode.TIMEOUT, f"{what}: no DM websocket was free within {self._config.queue_timeout:g}s"
            )
        errors = [s.last_error for s in self._sockets if s.last_error is not None]
        reason = f" (last error: {errors[-1].detail})" if errors else ""
        return UpstreamError(
            ErrorCode.UNAVAILABLE,
            f"{what}: the DM websocket is not connected after {self._config.connect_timeout:g}s{reason}",
        )

    def _raise_if_unusable(self, what: str) -> None:
        if not self._running:
            raise UpstreamError(ErrorCode.UNAVAILABLE, "the Character.AI client is not started")
        if self._down_since is not None:
            for socket in self._sockets:
                error = socket.last_error
                if error is not None and error.code is ErrorCode.AUTH:
                    raise UpstreamError(error.code, error.detail)

    def _assign(self) -> None:
        """Hand idle sockets to the longest-waiting requests, and open another socket if they are all busy."""
        for socket in self._sockets:
            if not socket.idle:
                continue
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    socket.reserve()
                    waiter.set_result(socket)
                    break
        waiting = sum(1 for waiter in self._waiters if not waiter.done())
        if not self._running or any(socket.failing for socket in self._sockets):
            return  # never open more sockets while the service refuses connections
        coming = sum(1 for socket in self._sockets if socket.idle or socket.reconnecting)
        while waiting > coming and len(self._sockets) < self._config.dm_sockets:
            self._open_socket()
            coming += 1

    def _open_socket(self) -> None:
        socket = DmSocket(self._config, len(self._sockets) + 1, self._on_change)
        self._sockets.append(socket)
        log.info("DM websocket %d of at most %d: opening", socket.number, self._config.dm_sockets)
        socket.start()

    def _on_change(self) -> None:
        if any(socket.connected for socket in self._sockets):
            self._down_since = None
        elif self._down_since is None:
            self._down_since = asyncio.get_running_loop().time()
        self._assign()
        self._pulse()

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
