"""What a chat message must contain is documented exactly: the document's pattern for ``message`` admits precisely
the texts the service answers (the core's ``is_blank`` refuses only spaces and invisible characters), in Python's
and in Rust's regex engines alike, and the running server agrees with the document on awkward texts."""

from __future__ import annotations

import json
import re
import sys

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from adapters.http.schemas import VISIBLE_TEXT_PATTERN
from bot.text import is_blank
from tests.http.support import World

SURROGATES = range(0xD800, 0xE000)
AWKWARD = [
    "\u200b",  # zero-width space: not whitespace to a regex's \s, yet shows nothing
    "\u001c",  # a separator Python counts as whitespace but ECMA-262's \s does not
    "\ufeff",  # the reverse: ECMA-262 whitespace, a format character to Python
    "\u3164",  # Hangul filler
    "\u2800",  # blank Braille pattern
    "\U000e0001",  # language tag, beyond the BMP
    "\u00ad\u200d\u2060",
    " \t\n",
    "a\u200b",
    "\u00a0x",
    "\U0001f642",
    "\U000e0001b",
]


def test_the_pattern_admits_exactly_the_characters_that_show() -> None:
    pattern = re.compile(VISIBLE_TEXT_PATTERN)
    disagree = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if code not in SURROGATES and bool(pattern.fullmatch(chr(code))) == is_blank(chr(code))
    ]
    assert disagree == []


@pytest.mark.parametrize("text", AWKWARD, ids=[t.encode("unicode_escape").decode() for t in AWKWARD])
def test_python_and_rust_regex_engines_read_the_pattern_alike(text: str) -> None:
    schema = {"type": "string", "pattern": VISIBLE_TEXT_PATTERN}
    rust = jsonschema_rs.validator_for(schema).is_valid(text)
    python = Draft202012Validator(schema).is_valid(text)
    assert rust == python == (not is_blank(text))


async def test_the_server_answers_exactly_the_messages_the_document_admits(world: World) -> None:
    document = world.api.documented.document
    schema = document["paths"]["/api/chat"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({"components": document["components"], **schema})
    for text in AWKWARD:
        body = {"message": text, "userId": "alice"}
        reply = await world.api.call(
            "POST", "/api/chat", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert reply.status in (200, 400), reply.body
        assert validator.is_valid(body) == (reply.status == 200), (text, reply.body)
        if reply.status == 400:
            assert "blank" in reply.body["error"]["message"]
