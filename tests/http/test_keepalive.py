"""A streamed reply that is slow to start keeps its connection alive with SSE comments."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import KEYS, running_api


async def test_a_slow_reply_sends_keepalive_comments_and_clients_still_read_the_events(tmp_path: Path) -> None:
    # Each 10-character snapshot comes 0.2 s after the last; keep-alives are due after 0.05 s of silence.
    async with running_api(tmp_path, chunk=10, pause=0.2, sse_keepalive_seconds=0.05) as world:
        body = {"message": "tell me something", "userId": "alice"}
        headers = {"Authorization": f"Bearer {KEYS[0]}"}
        async with aiohttp.ClientSession() as session, session.post(
            world.adapter.url + "/api/chat/stream", json=body, headers=headers
        ) as response:
            raw = (await response.read()).decode()
        blocks = [block for block in raw.split("\n\n") if block]
        comments = [block for block in blocks if block.startswith(":")]
        events = [block for block in blocks if block.startswith("data: ")]
        assert comments and all(block == ": keep-alive" for block in comments)
        assert len(comments) + len(events) == len(blocks), "only events and keep-alive comments"
        assert '"type":"end"' in events[-1]

        # A standard SSE client ignores the comments: the deltas still join to the reply.
        streamed = await world.api.stream("tell me something else")
        text = "".join(e["text"] for e in streamed if e["type"] == "content")
        assert text == ScriptedUpstream.answer("ada", "tell me something else")


async def test_keepalive_can_be_switched_off(tmp_path: Path) -> None:
    async with running_api(tmp_path, chunk=10, pause=0.1, sse_keepalive_seconds=0) as world:
        headers = {"Authorization": f"Bearer {KEYS[0]}"}
        async with aiohttp.ClientSession() as session, session.post(
            world.adapter.url + "/api/chat/stream", json={"message": "hi", "userId": "bob"}, headers=headers
        ) as response:
            raw = (await response.read()).decode()
        assert ": keep-alive" not in raw
