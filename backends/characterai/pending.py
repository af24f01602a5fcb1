"""``PendingRequest``: the answer of one request in flight on a websocket (a DM socket or a room connection),
frame by frame in arrival order, with the errors and drops that end it.

The socket delivers what arrives for the request (``deliver``, ``fail``, ``drop``); the reader takes it with
``next_frame``, calls ``finish`` once the answer is complete (a final turn, an error frame...) and ``close`` when
done. Closing hands the request back to its socket, which decides what an unfinished close means: a DM socket
is reset then, since the server may still be answering on it; a room connection needs nothing (a timeout resets
the room in ``RoomManager``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from backends.characterai.transport import ConnectionDropped
from bot.upstream.base import ErrorCode, UpstreamError

Frame = dict[str, Any]


class PendingRequest:
    def __init__(self, request_id: str, on_close: Callable[[PendingRequest], None]) -> None:
        self.request_id = request_id
        self.finished = False
        self._on_close = on_close
        self._items: asyncio.Queue[Frame | ConnectionDropped | UpstreamError] = asyncio.Queue()

    def deliver(self, frame: Frame) -> None:
        self._items.put_nowait(frame)

    def fail(self, error: UpstreamError) -> None:
        """The request ends with this error (the room refused the command, the client is closing...)."""
        self._items.put_nowait(error)

    def drop(self, reason: str) -> None:
        """The connection went away mid-request; the reader may look for the answer elsewhere (the history)."""
        self._items.put_nowait(ConnectionDropped(reason))

    async def next_frame(self, seconds: float, what: str) -> Frame:
        """The next frame; TIMEOUT when none comes within ``seconds``, ConnectionDropped after a drop."""
        try:
            item = await asyncio.wait_for(self._items.get(), seconds)
        except TimeoutError:
            raise UpstreamError(ErrorCode.TIMEOUT, f"{what}: no answer within {seconds:g}s") from None
        if isinstance(item, ConnectionDropped):
            raise item
        if isinstance(item, UpstreamError):
            raise UpstreamError(item.code, f"{what}: {item.detail}", item.retry_after)
        return item

    def finish(self) -> None:
        """The answer is complete: nothing more will come for this request."""
        self.finished = True

    def close(self) -> None:
        """Stop listening; frames that still arrive for this request are discarded."""
        self._on_close(self)
