"""A client that hangs up mid-stream (a real socket closed under the server) breaks nothing: the abandoned reply
completes upstream, the handler ends cleanly, and the next request to the conversation gets a complete reply."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ports import EVERYONE
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import KEYS, World, running_api


@pytest.fixture
async def slow_world(tmp_path: Path) -> AsyncIterator[World]:
    # Two characters per snapshot with a pause between them: the reply is still streaming when the client leaves.
    async with running_api(tmp_path, chunk=2, pause=0.02) as running:
        yield running


async def _hang_up_after(world: World, event_type: str) -> None:
    """Start a stream over a raw socket, read until the first event of ``event_type``, then close the socket."""
    host, port = "127.0.0.1", world.adapter.port
    reader, writer = await asyncio.open_connection(host, port)
    body = json.dumps({"message": "first", "userId": "alice"}).encode()
    writer.write(
        b"POST /api/chat/stream HTTP/1.1\r\n"
        + f"Host: {host}:{port}\r\nAuthorization: Bearer {KEYS[0]}\r\n".encode()
        + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    async with asyncio.timeout(10):
        while True:
            line = await reader.readline()
            assert line, "the server closed the stream first"
            if line.startswith(b"data: ") and json.loads(line[6:])["type"] == event_type:
                break
    writer.transport.abort()  # a hard close, like a killed client
    await asyncio.sleep(0)


class LogWatch(logging.Handler):
    """Sets ``seen`` when a record containing ``needle`` is logged."""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()


@pytest.mark.parametrize("leave_after", ["start", "content"])
async def test_a_client_leaving_mid_stream_breaks_nothing(
    slow_world: World, caplog: pytest.LogCaptureFixture, leave_after: str
) -> None:
    caplog.set_level(logging.INFO)
    world = slow_world
    watch = LogWatch("left /api/chat/stream mid-reply")
    logging.getLogger("charbridge.http").addHandler(watch)
    try:
        await _hang_up_after(world, leave_after)
        # the handler notices at its next write and ends cleanly (no error, no leftover)
        await asyncio.wait_for(watch.seen.wait(), timeout=10)
    finally:
        logging.getLogger("charbridge.http").removeHandler(watch)

    events = await world.api.stream("second")
    assert events[-1] == {"type": "end", "response": ScriptedUpstream.answer("ada", "second"), "usage": None}
    assert "".join(e["text"] for e in events if e["type"] == "content") == ScriptedUpstream.answer("ada", "second")
    reply = await world.api.chat("third")
    assert reply.status == 200 and reply.body["data"]["response"] == ScriptedUpstream.answer("ada", "third")

    chat_id = await world.core.store.get_chat_id("http:dm:alice", EVERYONE)
    assert chat_id is not None
    # the abandoned reply completed upstream, in order, before the next turn
    assert world.upstream.chats[chat_id] == [
        "first", ScriptedUpstream.answer("ada", "first"),
        "second", ScriptedUpstream.answer("ada", "second"),
        "third", ScriptedUpstream.answer("ada", "third"),
    ]
    record = await world.core.store.get_conversation("http:dm:alice", EVERYONE)
    assert record is not None and record.message_count == 6
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
