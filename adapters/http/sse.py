"""Server-Sent Events framing, and turning the core's cumulative snapshots into deltas.

Each event is a single ``data:`` line of compact JSON (JSON escapes newlines, so one line always suffices)
followed by a blank line; the default event type ("message") is used, and the JSON's ``type`` says what it is.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from adapters.http.schemas import ApiModel

HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # ask nginx-style proxies not to buffer the stream
}


def frame(event: ApiModel) -> bytes:
    return b"data: " + event.model_dump_json().encode() + b"\n\n"


KEEPALIVE = b": keep-alive\n\n"  # an SSE comment: clients ignore it, proxies see the stream is alive


class EventStream:
    """An open SSE response. ``send`` raises ConnectionResetError once the client has gone away.

    While nothing is sent for ``keepalive`` seconds (say, a slow first token), a comment line goes out so
    that proxies and load balancers do not drop the idle connection."""

    def __init__(self, request: web.Request, keepalive: float = 15.0) -> None:
        self._request = request
        self._response = web.StreamResponse(headers=HEADERS)
        self._keepalive = keepalive
        self._lock = asyncio.Lock()  # the keep-alive task and the events never interleave their bytes
        self._last_write = 0.0
        self._pinger: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self._response.prepare(self._request)
        self._last_write = asyncio.get_running_loop().time()
        if self._keepalive > 0:
            self._pinger = asyncio.create_task(self._ping())

    async def send(self, event: ApiModel) -> None:
        await self._write(frame(event))

    async def _write(self, data: bytes) -> None:
        async with self._lock:
            await self._response.write(data)
            self._last_write = asyncio.get_running_loop().time()

    async def _ping(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionResetError):
            while True:
                await asyncio.sleep(max(0.0, self._last_write + self._keepalive - loop.time()))
                if loop.time() - self._last_write >= self._keepalive:
                    await self._write(KEEPALIVE)

    async def close(self) -> None:
        await self.release()
        await self._response.write_eof()

    async def release(self) -> None:
        """Stop the keep-alive comments (the stream is done, or its client is gone)."""
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self._pinger = None

    @property
    def response(self) -> web.StreamResponse:
        return self._response


class DeltaTracker:
    """The new text of each cumulative snapshot. Text that does not extend what was already sent (a backend
    revising its reply) cannot be expressed as a delta; it is held back, and the end event carries the whole
    final text for clients to trust."""

    def __init__(self) -> None:
        self.sent = ""

    def delta(self, text: str) -> str:
        if len(text) <= len(self.sent) or not text.startswith(self.sent):
            return ""
        new, self.sent = text[len(self.sent) :], text
        return new
