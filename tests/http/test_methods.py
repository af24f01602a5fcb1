"""A method a path does not have (TRACE, PUT, ...) gets 405 with an ``Allow`` header naming exactly the methods the
document gives that path (RFC 9110 requires the header), and the usual JSON error body."""

from __future__ import annotations

import pytest

from adapters.http.identity import encode_conversation_id
from bot.ports import EVERYONE
from tests.http.support import KEYS, World

UNDECLARED = ["TRACE", "PUT", "PATCH", "OPTIONS", "GET", "POST", "DELETE"]
CONVERSATION = encode_conversation_id("http:dm:alice", EVERYONE)


@pytest.mark.parametrize("key", ["with a key", "without a key"])
async def test_undeclared_methods_get_405_with_allow(world: World, key: str) -> None:
    await world.api.chat("hi")
    checked = 0
    for template, operations in world.api.documented.document["paths"].items():
        documented = {method.upper() for method in operations}
        path = template.replace("{conversationId}", CONVERSATION)
        for method in UNDECLARED:
            if method in documented:
                continue
            reply = await world.api.call(method, path, key=None if key == "without a key" else KEYS[0])
            assert reply.status == 405, (method, path, reply.body)
            assert reply.body["success"] is False and reply.body["error"]["code"] == "INVALID_REQUEST"
            assert method in reply.body["error"]["message"]
            allowed = {m.strip() for m in reply.headers.get("Allow", "").split(",") if m.strip()}
            assert allowed == documented, (method, path, reply.headers.get("Allow"))
            checked += 1
    assert checked >= 5 * 5
