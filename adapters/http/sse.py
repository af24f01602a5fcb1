"""Server-Sent Events framing, and turning the core's cumulative snapshots into deltas.

Each event is a single ``data:`` line of compact JSON (JSON escapes newlines, so one line always suffices)
followed by a blank line; the default event type ("message") is used, and the JSON's ``type`` says what it is.
"""

from __future__ import annotations

from aiohttp import web

from adapters.http.schemas import ApiModel

HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # ask nginx-style proxies not to buffer the stream
}


def frame(event: ApiModel) -> bytes:
    return b"data: " + event.model_dump_json().encode() + b"\n\n"


class EventStream:
    """An open SSE response. ``send`` raises ConnectionResetError once the client has gone away."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._response = web.StreamResponse(headers=HEADERS)

    async def open(self) -> None:
        await self._response.prepare(self._request)

    async def send(self, event: ApiModel) -> None:
        await self._response.write(frame(event))

    async def close(self) -> None:
        await self._response.write_eof()

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
