"""Drops, recovery from history, typed errors and timeouts, against the fake's fault injection."""

from __future__ import annotations

import asyncio

import pytest

from backends.characterai import CharacterAIBackend
from backends.characterai.account import Account
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ErrorCode, UpstreamError
from fakes.characterai import FakeCharacterAI, FaultKind

from .conftest import ECHO, ConfigFactory, assert_growing, collect, until


async def fresh_chat(account: Account) -> str:
    return (await account.chats.create_chat(ECHO, with_greeting=False)).chat_id


async def expect_error(account: Account, chat_id: str, text: str = "hello") -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        await collect(account.chats.send(chat_id, ECHO, text))
    return caught.value


# ----- drops -----


def rest_reads(fake: FakeCharacterAI, chat_id: str) -> int:
    return len(fake.received("rest", f"GET /turns/{chat_id}/"))


@pytest.mark.parametrize("close_code", [1011, None])  # a close frame, or TCP aborted without one
async def test_a_reply_cut_by_a_drop_is_followed_until_final_and_delivered_once(
    account: Account, fake: FakeCharacterAI, close_code: int | None
) -> None:
    chat_id = await fresh_chat(account)
    full = "Echo: a reply the server finished although the socket dropped"
    fake.inject("drop", target="dm", after_snapshots=2, close_code=close_code, hold=True)
    reading = asyncio.create_task(collect(account.chats.send(chat_id, ECHO, full.removeprefix("Echo: "))))

    # the server holds the rest of the turn: the client keeps looking, and delivers nothing final meanwhile
    await until(lambda: rest_reads(fake, chat_id) >= 3)
    assert not reading.done()
    fake.release_stalls()
    snapshots, finals = await reading

    assert [f.text for f in finals] == [full]
    assert finals[0].turn_id == fake.chat(chat_id).turns[-1].turn_id
    assert all(full.startswith(s.text) and s.text != full for s in snapshots)
    assert len(fake.received("dm", "create_and_generate_turn")) == 1  # never re-sent
    assert [t.is_human for t in fake.chat(chat_id).turns] == [True, False]

    # the socket came back: the next message works on a new connection
    _, next_finals = await collect(account.chats.send(chat_id, ECHO, "after the drop"))
    assert next_finals[0].text == "Echo: after the drop"
    assert fake.counters["dm_connections"] == 2


async def test_the_growth_after_a_drop_is_shown_as_it_happens(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    account = await Account.open(make_config(recovery_interval=0.02))
    try:
        chat_id = await fresh_chat(account)
        full = "Echo: " + "a long answer that goes on growing while nobody listens " * 3
        fake.inject("drop", target="dm", after_snapshots=2, continue_delay=0.05)
        snapshots, finals = await collect(account.chats.send(chat_id, ECHO, full.removeprefix("Echo: ")))
    finally:
        await account.close()
    assert [f.text for f in finals] == [full]
    assert_growing(snapshots, finals[0])
    assert len(snapshots) > 3  # more than the two streamed before the drop: the history's growth too


async def test_a_reply_the_history_calls_final_too_early_is_taken_only_once_stable(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    # This history says is_final: true even while the turn grows, so only a text that stopped changing
    # between two look-ups is the finished reply. The server adds a chunk every 0.1 s for about 4 s; the
    # client looks once a second.
    fake.configure(history_is_final="always")
    account = await Account.open(make_config(recovery_interval=1.0))
    try:
        chat_id = await fresh_chat(account)
        full = "Echo: " + "slow and steady wins the race, " * 5
        fake.inject("drop", target="dm", after_snapshots=2, continue_delay=0.1)
        snapshots, finals = await collect(account.chats.send(chat_id, ECHO, full.removeprefix("Echo: ")))
    finally:
        await account.close()
    assert [f.text for f in finals] == [full]
    assert all(full.startswith(s.text) for s in snapshots)


async def test_drop_with_a_cut_reply_in_history_ends_with_a_clear_error(
    account: Account, fake: FakeCharacterAI
) -> None:
    chat_id = await fresh_chat(account)
    fake.inject("drop", target="dm", after_snapshots=2, after_drop="cut")

    events: list[ReplySnapshot | ReplyFinal] = []
    with pytest.raises(UpstreamError) as caught:
        async for event in account.chats.send(chat_id, ECHO, "this reply will be cut short"):
            events.append(event)

    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "only the part already shown" in caught.value.detail
    assert events and all(isinstance(e, ReplySnapshot) for e in events)  # no final, so nothing delivered
    assert len(fake.received("dm", "create_and_generate_turn")) == 1
    _, finals = await collect(account.chats.send(chat_id, ECHO, "again"))
    assert finals[0].text == "Echo: again"


async def test_a_reply_that_never_finishes_after_a_drop_times_out_as_unavailable(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    account = await Account.open(make_config(recovery_interval=0.05, recovery_timeout=2.0))
    try:
        chat_id = await fresh_chat(account)
        fake.inject("drop", target="dm", after_snapshots=2, hold=True)  # never released
        with pytest.raises(UpstreamError) as caught:
            await collect(account.chats.send(chat_id, ECHO, "this one stays unfinished"))
    finally:
        await account.close()
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "not finished within 2s" in caught.value.detail
    assert len(fake.received("dm", "create_and_generate_turn")) == 1


async def test_a_regeneration_cut_by_a_drop_is_recovered(account: Account, fake: FakeCharacterAI) -> None:
    chat_id = await fresh_chat(account)
    await collect(account.chats.send(chat_id, ECHO, "first"))
    fake.script_reply(ECHO, "A brand new candidate, finished on the server after the drop.")
    fake.inject("drop", target="dm", command="generate_turn_candidate", after_snapshots=1, continue_delay=0.01)
    _, finals = await collect(account.chats.regenerate(chat_id, ECHO))
    assert [f.text for f in finals] == ["A brand new candidate, finished on the server after the drop."]
    assert len(fake.received("dm", "generate_turn_candidate")) == 1


async def test_drop_during_regenerate_without_a_finished_candidate_errors(
    account: Account, fake: FakeCharacterAI
) -> None:
    chat_id = await fresh_chat(account)
    await collect(account.chats.send(chat_id, ECHO, "first"))
    fake.inject("drop", target="dm", command="generate_turn_candidate", after_snapshots=0, after_drop="cut")
    with pytest.raises(UpstreamError) as caught:
        await collect(account.chats.regenerate(chat_id, ECHO))
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert len(fake.received("dm", "generate_turn_candidate")) == 1


# ----- neo_error and filter frames -----


@pytest.mark.parametrize(
    ("fault", "options", "code"),
    [
        ("neo_error", {"error_code": 404, "comment": "chat not found"}, ErrorCode.NOT_FOUND),
        ("neo_error", {"error_code": 400, "comment": "invalid request"}, ErrorCode.INVALID),
        ("neo_error", {"error_code": 500, "comment": "internal"}, ErrorCode.MODEL),  # the model failed
        ("neo_error", {"error_code": 503, "comment": "overloaded"}, ErrorCode.MODEL),
        ("neo_error", {"error_code": 403, "comment": "forbidden"}, ErrorCode.AUTH),
        (
            "neo_error",
            {"error_code": 400, "sub_code": 101, "comment": "Self harm message detected"},
            ErrorCode.FILTERED,
        ),
        ("rate_limit", {"retry_after_seconds": 7.5}, ErrorCode.RATE_LIMITED),
        ("self_harm_filter", {}, ErrorCode.FILTERED),
        ("input_filter", {}, ErrorCode.FILTERED),
    ],
)
async def test_neo_errors_map_to_typed_upstream_errors(
    account: Account, fake: FakeCharacterAI, fault: FaultKind, options: dict[str, object], code: ErrorCode
) -> None:
    chat_id = await fresh_chat(account)
    fake.inject(fault, target="dm", command="create_and_generate_turn", **options)
    error = await expect_error(account, chat_id)
    assert error.code is code
    if fault == "rate_limit":
        assert error.retry_after == 7.5
    # the socket is still usable afterwards
    _, finals = await collect(account.chats.send(chat_id, ECHO, "fine now"))
    assert finals[0].text == "Echo: fine now"
    assert fake.counters["dm_connections"] == 1


async def test_unknown_chat_is_not_found(account: Account) -> None:
    error = await expect_error(account, "00000000-0000-4000-8000-000000000000")
    assert error.code is ErrorCode.NOT_FOUND and "chat not found" in error.detail


async def test_the_fakes_rate_limit_window_is_surfaced(account: Account, fake: FakeCharacterAI) -> None:
    chat_id = await fresh_chat(account)
    fake.configure(rate_limit_count=1, rate_limit_window=60.0)
    await collect(account.chats.send(chat_id, ECHO, "one"))
    error = await expect_error(account, chat_id, "two")
    assert error.code is ErrorCode.RATE_LIMITED and error.retry_after is not None and error.retry_after > 0


async def test_safety_truncated_reply(account: Account, fake: FakeCharacterAI) -> None:
    chat_id = await fresh_chat(account)
    fake.inject("safety_truncate", target="dm", keep_chars=8)
    _, finals = await collect(account.chats.send(chat_id, ECHO, "something long enough to cut"))
    assert finals[0].text == "Echo: so"  # the part that came is delivered

    fake.inject("safety_truncate", target="dm", keep_chars=0)
    error = await expect_error(account, chat_id)
    assert error.code is ErrorCode.FILTERED


# ----- REST errors -----


@pytest.mark.parametrize(
    ("status", "body", "content_type", "code"),
    [
        (429, "Too Many Requests", "text/plain", ErrorCode.RATE_LIMITED),
        (500, "Internal Server Error", "text/plain", ErrorCode.UNAVAILABLE),
        (403, "<html><body>Just a moment...</body></html>", "text/html", ErrorCode.UNAVAILABLE),
        (401, "Unauthorized", "text/plain", ErrorCode.AUTH),
        (404, '{"command":"neo_error","comment":"not found"}', "application/json", ErrorCode.NOT_FOUND),
    ],
)
async def test_http_errors_map_to_typed_upstream_errors(
    account: Account, fake: FakeCharacterAI, status: int, body: str, content_type: str, code: ErrorCode
) -> None:
    chat_id = await fresh_chat(account)
    fake.inject("rest_error", path_prefix="/turns/", status=status, body=body, content_type=content_type)
    with pytest.raises(UpstreamError) as caught:
        await account.history.history(chat_id)
    assert caught.value.code is code
    assert await account.history.history(chat_id) == []  # one-off fault: the next call works


# ----- timeouts -----


async def test_stalled_reply_times_out_and_the_socket_recovers(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    account = await Account.open(make_config(idle_timeout=2.0, first_token_timeout=2.0))
    try:
        chat_id = await fresh_chat(account)
        fake.inject("stall", target="dm", after_snapshots=1)
        with pytest.raises(UpstreamError) as caught:
            await collect(account.chats.send(chat_id, ECHO, "this one stalls"))
        assert caught.value.code is ErrorCode.TIMEOUT

        fake.inject("stall", target="dm", after_snapshots=0)  # nothing at all: the first-token timeout
        with pytest.raises(UpstreamError) as caught:
            await collect(account.chats.send(chat_id, ECHO, "this one never starts"))
        assert caught.value.code is ErrorCode.TIMEOUT

        # the stuck connection was reset, so the next request is answered on a new one
        _, finals = await collect(account.chats.send(chat_id, ECHO, "after the stall"))
        assert finals[0].text == "Echo: after the stall"
        assert fake.counters["dm_connections"] == 3
    finally:
        await account.close()


async def test_slow_create_chat_times_out(make_config: ConfigFactory, fake: FakeCharacterAI) -> None:
    account = await Account.open(make_config(request_timeout=2.0))
    try:
        fake.inject("delay", target="dm", command="create_chat", seconds=6.0)
        with pytest.raises(UpstreamError) as caught:
            await account.chats.create_chat(ECHO)
        assert caught.value.code is ErrorCode.TIMEOUT
        chat = await account.chats.create_chat(ECHO)
        assert chat.greeting is not None
    finally:
        await account.close()


async def test_unreachable_server_is_unavailable(make_config: ConfigFactory, fake: FakeCharacterAI) -> None:
    await fake.stop()
    backend = CharacterAIBackend(make_config(connect_timeout=0.5))
    with pytest.raises(UpstreamError) as caught:
        await backend.start()
    assert caught.value.code is ErrorCode.UNAVAILABLE


async def test_a_rest_call_that_never_answers_times_out(account: Account, make_config: ConfigFactory) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):  # take the request, never answer, end when the client hangs up
            pass
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    slow = await Account.open(make_config(neo_url=f"http://127.0.0.1:{port}", request_timeout=2.0))
    try:
        assert slow.profile == account.profile  # the profile comes from plus, which is still the fake
        with pytest.raises(UpstreamError) as caught:
            await slow.rest.character(ECHO)
        assert caught.value.code is ErrorCode.TIMEOUT
    finally:
        await slow.close()
        server.close()
