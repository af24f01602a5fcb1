"""Token handling: accepted forms, a bad token fails fast and clearly, and no token ever leaks."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr, ValidationError

from backends.characterai import CharacterAIBackend, CharacterAIConfig
from backends.characterai.dm_pool import DmPool
from bot.upstream.base import ErrorCode, Upstream, UpstreamError
from fakes.characterai import FakeCharacterAI

from .conftest import ECHO, ConfigFactory, collect

BAD_TOKEN = "bad-token-1234567890abcdef1234567890abcd"


def test_token_is_accepted_raw_or_with_the_prefix_and_never_shown() -> None:
    raw = CharacterAIConfig(token=SecretStr("test-token-abc"))
    prefixed = CharacterAIConfig(token=SecretStr("Token test-token-abc"))
    assert raw.key == prefixed.key == "test-token-abc"
    assert prefixed.auth_header() == "Token test-token-abc"
    assert prefixed.auth_cookie() == 'HTTP_AUTHORIZATION="Token test-token-abc"'
    for shown in (repr(prefixed), str(prefixed), prefixed.model_dump_json()):
        assert "test-token-abc" not in shown
    with pytest.raises(ValidationError):
        CharacterAIConfig(token=SecretStr("Token "))


async def test_bad_token_fails_fast_with_a_clear_message_and_no_token(
    make_config: ConfigFactory, fake: FakeCharacterAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = CharacterAIBackend(make_config(token=f"Token {BAD_TOKEN}"))
    with pytest.raises(UpstreamError) as caught:
        await backend.start()

    error = caught.value
    assert error.code is ErrorCode.AUTH
    assert "token is invalid" in error.detail
    assert fake.counters["rest_unauthorized"] == 1
    assert fake.counters.get("dm_connections", 0) == 0  # stopped before opening the socket
    for text in (str(error), repr(error), error.detail, repr(backend), caplog.text):
        assert BAD_TOKEN not in text


async def test_dm_socket_refused_with_403_is_an_auth_error_without_the_token(
    make_config: ConfigFactory, fake: FakeCharacterAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    socket = DmPool(make_config(token=BAD_TOKEN))
    try:
        with pytest.raises(UpstreamError) as caught:
            await socket.start()
    finally:
        await socket.close()
    assert caught.value.code is ErrorCode.AUTH
    assert "HTTP 403" in caught.value.detail
    assert fake.counters["dm_connections_rejected"] >= 1
    assert BAD_TOKEN not in str(caught.value) + caplog.text


async def test_good_token_never_appears_in_debug_logs(
    make_config: ConfigFactory, fake: FakeCharacterAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = CharacterAIBackend(make_config(token=f"Token {fake.token}"))
    await backend.start()
    try:
        chat = await backend.create_chat(ECHO)
        await collect(backend.send(chat.chat_id, ECHO, "hello"))
        room = await backend.create_room([ECHO], "secret check")
        await backend.room_send(room.id, "hi")
        await backend.room_disconnect(room.id)
    finally:
        await backend.close()
    # the websockets handshake is logged at DEBUG (cookie included): it must be there, redacted
    assert any("Cookie" in record.getMessage() for record in caplog.records)
    assert fake.token not in caplog.text
    assert fake.token not in repr(backend)


async def test_backend_is_an_upstream(make_config: ConfigFactory) -> None:
    backend: Upstream = CharacterAIBackend(make_config())  # mypy checks the protocol here
    await backend.start()
    try:
        assert backend.name == "characterai"
        chat = await backend.create_chat(ECHO)
        _, finals = await collect(backend.send(chat.chat_id, ECHO, "through the protocol"))
        assert finals[0].text == "Echo: through the protocol"
    finally:
        await backend.close()


async def test_a_token_echoed_by_the_server_is_redacted_from_errors(
    backend: CharacterAIBackend, fake: FakeCharacterAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = await backend.create_chat(ECHO, with_greeting=False)
    fake.inject("neo_error", target="dm", error_code=401, comment=f"rejected Token {fake.token}")
    with pytest.raises(UpstreamError) as caught:
        await collect(backend.send(chat.chat_id, ECHO, "hello"))
    assert caught.value.code is ErrorCode.AUTH
    assert "rejected Token [redacted]" in caught.value.detail
    assert fake.token not in str(caught.value) + caplog.text
