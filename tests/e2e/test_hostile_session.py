"""A hostile session against a real `charbridge run` process with Telegram, Discord and the HTTP API on: everything
a user, a platform or an HTTP client can send that is malformed, oversized or unexpected. Every input gets an
answer or a deliberate silence, the process keeps serving, and its log holds no traceback and no ERROR line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.discord.tree import OUT_OF_DATE
from bot.door import ONLY_TEXT
from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.discord import FakeDiscord, FakeDiscordConfig
from fakes.telegram import FakeTelegram
from tests.conftest import free_port
from tests.e2e.test_charbridge_run import logged

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_TOKEN = "7000000005:TEST-TOKEN-NOT-REAL-HOSTILE"
DISCORD_TOKEN = "not-a-real-discord-token-hostile"
API_KEY = "hostile-session-api-key"
ADA = FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian")
OWNER_ID = 4242
HUGE = "ж" * 4000
WAIT = 30.0  # generous: the bridge is a separate process on a shared machine


@dataclass
class Session:
    cai: FakeCharacterAI
    telegram: FakeTelegram
    discord: FakeDiscord
    api: str  # the HTTP API's base URL
    log: Path


def config_text(tmp_path: Path, cai: FakeCharacterAI, telegram: FakeTelegram, discord: FakeDiscord, port: int) -> str:
    return f"""
[bridge]
data_dir = "{tmp_path / "data"}"
default_preset = "ada"
owners = ["telegram:{OWNER_ID}"]

[characterai]
neo_url = "{cai.neo_url}"
plus_url = "{cai.plus_url}"
dm_ws_url = "{cai.ws_url}"
room_ws_url = "{cai.room_ws_url}"

[telegram]
base_url = "{telegram.base_url}"
base_file_url = "{telegram.base_file_url}"

[discord]
api_base = "{discord.api_base}"
gateway_url = "{discord.gateway_url}"
guild_ids = [{discord.guild.id}]
guild_ready_timeout = 0.1

[http]
enabled = true
port = {port}
max_body_bytes = 4096
rate_limit_per_minute = 1000

[[presets]]
name = "ada"
character_id = "ada"
"""


@asynccontextmanager
async def bridge_session(tmp_path: Path) -> AsyncIterator[Session]:
    """The fakes and a `charbridge run` process on them; stopped with SIGTERM, which must end it cleanly."""
    cai = FakeCharacterAI(characters=[ADA], seed=1)
    await cai.start()
    telegram = FakeTelegram(time_scale=0.1)
    telegram.add_bot(TELEGRAM_TOKEN, "RunBot")
    await telegram.start()
    discord = FakeDiscord(FakeDiscordConfig(token=DISCORD_TOKEN, heartbeat_interval=1.0))
    await discord.start()
    port = free_port()
    config = tmp_path / "charbridge.toml"
    config.write_text(config_text(tmp_path, cai, telegram, discord, port))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARBRIDGE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        CHARBRIDGE_TELEGRAM__TOKEN=TELEGRAM_TOKEN,
        CHARBRIDGE_DISCORD__TOKEN=DISCORD_TOKEN,
        CHARBRIDGE_CHARACTERAI__TOKEN=cai.token,
        CHARBRIDGE_HTTP__API_KEYS=json.dumps([API_KEY]),
    )
    log = tmp_path / "bridge.log"
    log_file = log.open("wb")
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "charbridge", "run", "--config", str(config),
        cwd=tmp_path, env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        for name in ("telegram", "discord", "http"):
            await logged(log, f"{name} is running")
        yield Session(cai, telegram, discord, f"http://127.0.0.1:{port}", log)
    finally:
        if bridge.returncode is None:
            bridge.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bridge.wait(), timeout=WAIT)
        log_file.close()
        await discord.stop()
        await telegram.stop()
        await cai.stop()
    assert bridge.returncode == 0, log.read_text()


async def telegram_session(session: Session) -> None:
    tg = session.telegram
    olga = tg.add_user("Olga", user_id=OWNER_ID)
    chat = tg.private_chat(olga)
    first = tg.user_sends(chat, olga, "hello")
    await tg.wait_for_bot_message(chat, ADA.reply_to("hello"), timeout=WAIT)
    for kind in ("sticker", "sticker", "photo", "voice", "document"):
        tg.user_sends_media(chat, olga, kind)  # type: ignore[arg-type]
    tg.user_edits(first, "hello, edited")
    tg.user_sends(chat, olga, "/nosuchcommand")
    tg.user_sends(chat, olga, f"/preset show {HUGE}")
    tg.user_sends(chat, olga, "/chat@RunBot hi", entities=[{"type": "bot_command", "offset": 0, "length": 99}])
    tg.user_sends(chat, olga, "@RunBot 😀", entities=[{"type": "mention", "offset": 40, "length": 9}])
    tg.user_sends(chat, olga, "😀" * 2000)
    tg.user_sends(chat, olga, "/chat")
    tg.user_sends(chat, olga, "/preset")
    tg.user_sends(chat, olga, "/start " + "p" * 4000)
    tg.user_sends_media(chat, olga, "photo", caption="/chat what is this?")
    tg.user_sends(chat, olga, "\u200b\u2060")
    group = tg.add_group("Tavern", members=[olga], bots=["RunBot"], forum=True)
    tg.set_privacy("RunBot", False)
    topic = tg.create_topic(group, "Quest " * 20, creator=olga)
    tg.user_sends_media(group, olga, "sticker")  # not for the bot: left alone
    tg.user_sends(group, olga, "/nosuchcommand")  # in a group, not answered
    tg.user_sends(group, olga, "@RunBot", thread_id=topic)  # only the mention: told there is no text
    tg.user_sends(group, olga, "/preset use ada extra words", thread_id=topic)
    tg.user_sends(chat, olga, "the last word")
    await tg.wait_for_bot_message(chat, ADA.reply_to("the last word"), timeout=WAIT)
    said = [m.text for m in tg.bot_messages(chat)]
    assert said.count(ONLY_TEXT) == 1
    assert "I don't know /nosuchcommand. Try /help." in said
    assert all(text.count("ж") <= 100 for text in said)
    assert "Usage: /chat <message>" in said
    assert all(text.count("p") <= 100 for text in said)
    await tg.wait_for(lambda: len(tg.bot_messages(group)) == 2, timeout=WAIT)


async def discord_session(session: Session) -> None:
    dc = session.discord
    missing = "⚠️ Missing message. Usage: /chat message:…"
    malformed: list[tuple[dict[str, Any], str]] = [
        ({"name": "nosuch", "type": 1}, OUT_OF_DATE),
        ({"name": "preset", "type": 1}, OUT_OF_DATE),
        ({"name": "preset", "type": 1, "options": [{"name": "frobnicate", "type": 1}]}, OUT_OF_DATE),
        ({"name": "chat", "type": 1}, missing),
        ({"name": "chat", "type": 1, "options": [{"name": "text", "type": 3, "value": "hi"}]}, OUT_OF_DATE),
        ({"name": "chat", "type": 1, "options": [{"name": "message", "type": 3, "value": 5}]}, OUT_OF_DATE),
        ({"id": "1", "name": "ask", "type": 1, "options": [{"name": "prompt", "type": 3, "value": "hi"}]},
         OUT_OF_DATE),
        ({"name": "Ask Ada", "type": 2, "target_id": "1"}, OUT_OF_DATE),
    ]  # fmt: skip
    records = [await dc.slash_raw("general", "alice", data) for data, _ in malformed]
    autocomplete = await dc.autocomplete("general", "alice", "nosuch", "name", "x")
    huge = await dc.slash("general", "alice", "preset", {"name": "ж" * 6000}, subcommand="show")
    await dc.dm("bob", "", stickers=["wave"])
    await dc.dm("bob", "", stickers=["wave"])
    await dc.dm("bob", "", files=["cat.png"])
    await dc.user_sends("general", "alice", "", mention_bot=True)  # only the mention
    await dc.user_sends("chat-thread", "bob", "x" * 4000, mention_bot=True)
    await dc.slash(dc.world.open_dm(dc.user("bob")), "bob", "preset", subcommand="list")
    asked = await dc.user_sends("general", "alice", "tell me about ships", mention_bot=True)
    await dc.user_edits(asked, f"<@{dc.bot.id}> tell me about the sea")
    await dc.dm("bob", "the last word")
    expected = ADA.reply_to("the last word")
    await dc.wait_for(lambda: any(m.content.endswith(expected) for m in dm_messages(session)), timeout=WAIT)
    await dc.wait_for(lambda: all(r.original_message_id for r in [*records, huge]), timeout=WAIT)
    for record, (_, answer) in zip(records, malformed, strict=True):
        assert dc.message_view(record.original_message_id or 0).content == answer
    assert autocomplete.choices == []
    shown = dc.message_view(huge.original_message_id or 0).content
    assert shown.count("ж") <= 100 and "…" in shown
    assert [m.content for m in dm_messages(session)].count(ONLY_TEXT) == 1


def dm_messages(session: Session) -> list[Any]:
    dc = session.discord
    channel = dc.dm_channel("bob")
    return [] if channel is None else dc.bot_messages(channel)


async def http_session(session: Session) -> None:
    key = {"Authorization": f"Bearer {API_KEY}"}
    json_type = {**key, "Content-Type": "application/json"}
    bodies: list[bytes] = [
        b"{", b"[]", b"null", b'"text"', b"1e999", b'{"message": 5, "userId": []}',
        b'{"message": "hi", "userId": "alice", "extra": true}',
        b'{"message": "hi", "userId": "\\udfff"}',  # not a valid user id, surrogate or not
        b'{"message": "\xff\xfe not utf-8", "userId": "alice"}',
        b"[" * 2000 + b"]" * 2000,  # deeply nested, and under the size limit
        b'{"message": "' + b"x" * 5000 + b'", "userId": "alice"}',
        b'{"message": "' + b"x" * 10_000_000 + b'", "userId": "alice"}',
        b'{"message": "hi", "userId": "alice", "preset": "' + "ж".encode() * 100 + b'"}',
    ]  # fmt: skip
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            try:
                async with http.post(f"{session.api}/api/chat", data=body, headers=json_type) as response:
                    assert 400 <= response.status < 500, (body[:60], response.status, await response.text())
                    assert (await response.json(content_type=None))["success"] is False
            except aiohttp.ClientOSError:
                assert len(body) > 1_000_000  # refused (413) and closed while the client was still uploading
        # lone surrogates are cleaned at the edge (U+FFFD) and answered like any message
        for body in (b'{"message": "a lone \\ud800 surrogate", "userId": "alice"}',):
            async with http.post(f"{session.api}/api/chat", data=body, headers=json_type) as response:
                assert response.status == 200, (body, await response.text())
                assert (await response.json())["success"] is True
        gets = [
            "/api/conversations?limit=abc", "/api/conversations?limit=99999999999999999999999",
            "/api/conversations?offset=-1", "/api/conversations?userId=%ED%A0%80", "/api/conversations/%FF%FE",
            "/api/conversations/" + "z" * 4000, "/api/conversations/..%2F..%2Fetc", "/nope", "/api/", "/api/chat",
        ]  # fmt: skip
        for path in gets:
            async with http.get(session.api + path, headers=key) as response:
                assert 400 <= response.status < 500, (path[:60], response.status)
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                        {"Authorization": "Bearer " + "k" * 10_000}, {"Authorization": "Bearer é"}):  # fmt: skip
            async with http.get(f"{session.api}/api/conversations", headers=headers) as response:
                assert response.status in (400, 401, 431), (str(headers)[:60], response.status)
        async with http.put(f"{session.api}/api/chat", data=b"{}", headers=json_type) as response:
            assert response.status == 405
        async with http.post(f"{session.api}/api/chat", json={"message": "still here?", "userId": "alice"},
                             headers=key) as response:  # fmt: skip
            assert response.status == 200, await response.text()
    for raw in [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"mess",  # then hangs up
    ]:
        await raw_exchange(session.api, raw)


async def raw_exchange(base: str, raw: bytes) -> None:
    """Send bytes no HTTP client would, then hang up; whatever the server answers must not be a 5xx."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    await writer.drain()
    writer.write_eof()
    async with asyncio.timeout(WAIT):
        answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert not answer.startswith(b"HTTP/1.1 5"), answer[:200]


async def test_a_hostile_session_gets_answers_and_logs_no_error(tmp_path: Path) -> None:
    async with bridge_session(tmp_path) as session:
        await telegram_session(session)
        await discord_session(session)
        await http_session(session)
    log = session.log.read_text(errors="replace")
    assert "Traceback" not in log, log
    errors = [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert errors == [], errors
    assert TELEGRAM_TOKEN not in log and DISCORD_TOKEN not in log and API_KEY not in log
