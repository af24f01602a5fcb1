"""The HTTP API's edge under arbitrary bodies: the body decoder (bytes -> ChatBody) and ``chat_request``
(ChatBody fields -> ChatRequest). Bodies are either any bytes at all or JSON documents with hostile strings,
serialised the ways clients do (surrogates escaped, or raw UTF-8)."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from adapters.http.chat_requests import chat_request
from adapters.http.errors import ApiError
from adapters.http.parsing import decode_body
from adapters.http.schemas import EXTERNAL_ID_PATTERN, ChatBody
from bot.door import is_addressed
from bot.text import clean_text
from tests.properties.strategies import PROPERTY, all_strings, encodable, hostile_text

ID_PATTERN = EXTERNAL_ID_PATTERN.removeprefix("^").removesuffix("$")
external_ids = st.from_regex(ID_PATTERN, fullmatch=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def json_bodies(draw: Any) -> tuple[dict[str, Any], bytes]:
    body: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        body["message"] = draw(st.one_of(hostile_text(), json_values)) if draw(st.integers(0, 9)) == 0 else draw(
            hostile_text()
        )
    if draw(st.integers(0, 9)):
        body["userId"] = draw(external_ids) if draw(st.integers(0, 4)) else draw(hostile_text(max_size=20))
    if draw(st.booleans()):
        body["groupId"] = draw(st.one_of(st.none(), external_ids))
    if draw(st.integers(0, 5)) == 0:
        body[draw(hostile_text(max_size=10))] = draw(json_values)
    if draw(st.booleans()):
        raw = json.dumps(body).encode()  # ASCII, surrogates as escapes
    else:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")  # surrogates as CESU bytes
    return body, raw


def decoded(raw: bytes) -> ChatBody | ApiError:
    try:
        return decode_body(raw, ChatBody)
    except ApiError as exc:  # anything else (a traceback, a 500) fails the property
        return exc


@PROPERTY
@given(st.binary(max_size=3000))
def test_any_bytes_are_a_body_or_a_clear_invalid_request(raw: bytes) -> None:
    result = decoded(raw)
    if isinstance(result, ApiError):
        assert result.status == 400 and result.body.code == "INVALID_REQUEST" and result.body.message
        assert encodable(result.body.message)
    else:
        assert all(encodable(s) for s in all_strings(result.model_dump()))


@PROPERTY
@given(json_bodies())
def test_json_bodies_are_cleaned_never_refused_for_their_characters(example: tuple[dict[str, Any], bytes]) -> None:
    body, raw = example
    note(f"raw body: {raw!r}")
    result = decoded(raw)
    if isinstance(result, ApiError):
        assert result.status == 400 and result.body.code == "INVALID_REQUEST" and encodable(result.body.message)
    message, user = body.get("message"), body.get("userId")
    well_formed = (
        raw.isascii()  # (raw UTF-8 with surrogates is not UTF-8 at all: refusing it is right)
        and set(body) <= {"message", "userId", "groupId"}
        and isinstance(message, str)
        and clean_text(message).strip() != ""
        and isinstance(user, str)
        and re.fullmatch(ID_PATTERN, user) is not None
    )
    if well_formed:  # a message is never refused because of the characters in it
        assert isinstance(result, ChatBody), result
    if isinstance(result, ChatBody):
        assert result.message == clean_text(str(message))
        assert all(encodable(s) for s in all_strings(result.model_dump()))


@PROPERTY
@given(external_ids, st.one_of(st.none(), external_ids), hostile_text())
def test_chat_requests_are_clean_and_platform_qualified(user: str, group: str | None, text: str) -> None:
    request = chat_request(user, group, text)
    assert all(encodable(s) for s in all_strings(request.model_dump()))
    assert request.text == clean_text(text)
    assert (request.platform, request.user_id, request.user_name) == ("http", f"http:{user}", user)
    assert request.conversation_id == (f"http:dm:{user}" if group is None else f"http:{group}")
    assert request.is_dm == (group is None)
    assert request.message_id.startswith("http:") and len(request.message_id) > len("http:")
    assert request.target.platform == "http" and f"http:{request.target.chat}" == request.conversation_id
    assert request.mentions_bot and is_addressed(request, trigger="mention")  # an API call is always addressed
