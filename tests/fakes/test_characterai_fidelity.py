"""Fidelity: the independent client PyCharacterAI (unmodified, its real curl_cffi transport) against the fake.

PyCharacterAI hard-codes ``https://plus|neo.character.ai`` and ``wss://neo.character.ai/ws/`` inline, so
there is no URL to override. It does pass ``proxy`` and ``verify`` through to its curl_cffi session,
websocket included, so it reaches the fake through ``TlsConnectProxy``: an HTTP CONNECT proxy on
127.0.0.1 that terminates TLS with a throwaway certificate and forwards the plain bytes to the fake.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PyCharacterAI import get_client
from PyCharacterAI.client import AsyncClient
from PyCharacterAI.exceptions import ActionError, AuthenticationError

from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.characterai.tls_proxy import TlsConnectProxy

BARD = FakeCharacter(id="char_bard", name="Bard", greeting="Hark, a visitor!", style="echo")


@pytest.fixture
async def fake() -> AsyncIterator[FakeCharacterAI]:
    server = FakeCharacterAI(characters=[BARD], seed=11, chunk_chars=7)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def proxy(fake: FakeCharacterAI) -> AsyncIterator[TlsConnectProxy]:
    tunnel = TlsConnectProxy("127.0.0.1", fake.port)
    await tunnel.start()
    yield tunnel
    await tunnel.stop()


def client_options(proxy: TlsConnectProxy) -> dict[str, Any]:
    return {"proxy": proxy.url, "verify": False}


@pytest.fixture
async def client(fake: FakeCharacterAI, proxy: TlsConnectProxy) -> AsyncIterator[AsyncClient]:
    pycai = await get_client(token=fake.token, **client_options(proxy))
    yield pycai
    await pycai.close_session()


async def test_authenticate_reads_the_integer_user_id(
    client: AsyncClient, fake: FakeCharacterAI, proxy: TlsConnectProxy
) -> None:
    assert client.get_account_id() == str(fake.user.user_id)
    info = await client.character.fetch_character_info(BARD.id)
    assert (info.name, info.greeting) == (BARD.name, BARD.greeting)
    assert {"plus.character.ai:443", "neo.character.ai:443"} <= set(proxy.tunnels)


async def test_bad_token_is_an_authentication_error(fake: FakeCharacterAI, proxy: TlsConnectProxy) -> None:
    with pytest.raises(AuthenticationError):
        await get_client(token="not-a-valid-token", **client_options(proxy))
    pycai = AsyncClient(**client_options(proxy))
    pycai.set_token("not-a-valid-token")
    pycai.set_account_id("1")
    try:
        with pytest.raises(AuthenticationError):  # the websocket upgrade is refused with 403
            await pycai.chat.create_chat(BARD.id)
    finally:
        await pycai.close_session()
    assert fake.counters["dm_connections_rejected"] == 1


async def test_create_chat_and_stream_a_reply(client: AsyncClient, fake: FakeCharacterAI) -> None:
    chat, greeting = await client.chat.create_chat(BARD.id)
    assert greeting is not None and greeting.get_primary_candidate().text == BARD.greeting
    assert fake.chat(chat.chat_id).character_id == BARD.id

    fake.script_reply(BARD.id, "Once upon a time, in a land of fakes, a reply was streamed.")
    stream = await client.chat.send_message(BARD.id, chat.chat_id, "Tell me a story", streaming=True)
    snapshots = [turn.get_primary_candidate() async for turn in stream]
    texts = [c.text for c in snapshots]
    assert len(texts) >= 3 and all(b.startswith(a) and b != a for a, b in itertools.pairwise(texts))
    assert [c.is_final for c in snapshots] == [False] * (len(snapshots) - 1) + [True]
    assert texts[-1] == "Once upon a time, in a land of fakes, a reply was streamed."
    sent = fake.received("dm", "create_and_generate_turn")[-1].frame
    assert sent["payload"]["turn"]["candidates"][0]["raw_content"] == "Tell me a story"


async def test_regenerate_edit_pin_delete_and_history(client: AsyncClient, fake: FakeCharacterAI) -> None:
    fake.configure(page_size=2)
    chat, _ = await client.chat.create_chat(BARD.id)
    reply = await client.chat.send_message(BARD.id, chat.chat_id, "sing")
    assert reply.get_primary_candidate().text == "Echo: sing"

    other = await client.chat.another_response(BARD.id, chat.chat_id, reply.turn_id)
    assert other.get_primary_candidate().text == "Echo #2: sing"
    assert other.primary_candidate_id != reply.primary_candidate_id
    assert await client.chat.update_primary_candidate(chat.chat_id, reply.turn_id, reply.primary_candidate_id)

    edited = await client.chat.edit_message(chat.chat_id, reply.turn_id, reply.primary_candidate_id, "better")
    assert edited.candidates[reply.primary_candidate_id].text == "better"
    assert await client.chat.pin_message(chat.chat_id, reply.turn_id) is True

    history = await client.chat.fetch_all_messages(chat.chat_id)  # greeting, user, reply: pages of 2 + 1
    assert [t.turn_id for t in history] == [t.turn_id for t in reversed(fake.chat(chat.chat_id).turns)]
    assert len(history) == 3 and history[0].turn_id == reply.turn_id
    pinned = await client.chat.fetch_all_pinned_messages(chat.chat_id)
    assert [t.turn_id for t in pinned] == [reply.turn_id]

    assert await client.chat.delete_message(chat.chat_id, reply.turn_id)
    assert reply.turn_id not in [t.turn_id for t in await client.chat.fetch_all_messages(chat.chat_id)]
    recent = await client.chat.fetch_recent_chats()
    assert [c.chat_id for c in recent] == [chat.chat_id] and recent[0].character_name == BARD.name


async def test_injected_errors_surface_in_the_client(client: AsyncClient, fake: FakeCharacterAI) -> None:
    chat, _ = await client.chat.create_chat(BARD.id, greeting=False)
    fake.inject("neo_error", comment="the fake says no")
    with pytest.raises(ActionError, match="the fake says no"):
        await client.chat.send_message(BARD.id, chat.chat_id, "hello")
    fake.inject("self_harm_filter")
    with pytest.raises(ActionError, match="Self harm"):
        await client.chat.send_message(BARD.id, chat.chat_id, "hello")
    fake.inject("safety_truncate", keep_chars=4)
    truncated = await client.chat.send_message(BARD.id, chat.chat_id, "hello")
    candidate = truncated.get_primary_candidate()
    assert (candidate.text, candidate.is_filtered) == ("Echo", True)
