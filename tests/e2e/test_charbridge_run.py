"""`charbridge run` as an operator starts it: a separate process, a TOML config, secrets in the environment,
against the fake Telegram and the fake Character.AI; stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.discord import FakeDiscord, FakeDiscordConfig
from fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_TOKEN = "7000000003:TEST-TOKEN-NOT-REAL-RUN"
ADA = FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian")


def config_file(path: Path, cai: FakeCharacterAI, telegram: FakeTelegram) -> Path:
    path.write_text(
        f"""
[bridge]
data_dir = "{path.parent / "data"}"
default_preset = "ada"

[characterai]
neo_url = "{cai.neo_url}"
plus_url = "{cai.plus_url}"
dm_ws_url = "{cai.ws_url}"
room_ws_url = "{cai.room_ws_url}"

[telegram]
base_url = "{telegram.base_url}"
base_file_url = "{telegram.base_file_url}"

[[presets]]
name = "ada"
character_id = "ada"
"""
    )
    return path


async def logged(log: Path, text: str) -> None:
    """Wait (up to 30 s) until the bridge's log file shows ``text``."""
    async with asyncio.timeout(30):
        # another process writes the file, so there is no event to await: poll it
        while text not in await asyncio.to_thread(log.read_text, errors="replace"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_run_answers_telegram_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    cai = FakeCharacterAI(characters=[ADA], seed=1)
    await cai.start()
    telegram = FakeTelegram(time_scale=0.1)
    telegram.add_bot(TELEGRAM_TOKEN, "RunBot")
    await telegram.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARBRIDGE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        CHARBRIDGE_TELEGRAM__TOKEN=TELEGRAM_TOKEN,
        CHARBRIDGE_CHARACTERAI__TOKEN=cai.token,
        CHARBRIDGE_BRIDGE__LOG_LEVEL="DEBUG",  # even at DEBUG, no secret may reach the log
    )
    config = config_file(tmp_path / "charbridge.toml", cai, telegram)
    log_file = (tmp_path / "bridge.log").open("wb")  # a file, not a pipe: DEBUG output must never stall it
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "charbridge", "run", "--config", str(config),
        cwd=tmp_path, env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        ann = telegram.add_user("Ann")
        chat = telegram.private_chat(ann)
        # deleteWebhook comes right before polling starts; a message sent now reaches the first long poll
        await telegram.wait_for(lambda: telegram.count("deleteWebhook") > 0, timeout=30)
        telegram.user_sends(chat, ann, "hello from the real process")
        await telegram.wait_for_bot_message(chat, ADA.reply_to("hello from the real process"), timeout=30)
    finally:
        if bridge.returncode is None:
            bridge.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bridge.wait(), timeout=30)
        log_file.close()
        await telegram.stop()
        await cai.stop()
    log = (tmp_path / "bridge.log").read_text()
    assert bridge.returncode == 0, log
    assert "Traceback" not in log
    assert "telegram is running" in log
    assert "WARNING" not in log and "ERROR" not in log, "a normal start and stop warns about nothing"
    assert TELEGRAM_TOKEN not in log and TELEGRAM_TOKEN.split(":")[1] not in log
    assert cai.token not in log
    assert (tmp_path / "data" / "charbridge.sqlite3").exists()


async def test_run_answers_discord_through_the_characters_webhook(tmp_path: Path) -> None:
    cai = FakeCharacterAI(characters=[ADA], seed=1)
    await cai.start()
    discord = FakeDiscord(FakeDiscordConfig(token="not-a-real-discord-token", heartbeat_interval=1.0))
    await discord.start()
    config = tmp_path / "charbridge.toml"
    config.write_text(
        f"""
[bridge]
data_dir = "{tmp_path / "data"}"
default_preset = "ada"

[characterai]
neo_url = "{cai.neo_url}"
plus_url = "{cai.plus_url}"
dm_ws_url = "{cai.ws_url}"
room_ws_url = "{cai.room_ws_url}"

[discord]
api_base = "{discord.api_base}"
gateway_url = "{discord.gateway_url}"
guild_ids = [{discord.guild.id}]
guild_ready_timeout = 0.1  # only how long discord.py waits for more servers after READY; our one server's
                           # GUILD_CREATE still comes before any message on the same gateway socket

[[presets]]
name = "ada"
character_id = "ada"
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARBRIDGE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        CHARBRIDGE_DISCORD__TOKEN="not-a-real-discord-token",
        CHARBRIDGE_CHARACTERAI__TOKEN=cai.token,
    )
    log_file = (tmp_path / "bridge.log").open("wb")
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "charbridge", "run", "--config", str(config),
        cwd=tmp_path, env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    expected = ADA.reply_to("who are you?")
    try:
        await logged(tmp_path / "bridge.log", "discord is running")  # connected and ready
        await discord.user_sends("general", "alice", "who are you?", mention_bot=True)
        reply = await discord.wait_for(
            lambda: next((m for m in discord.messages_in("general") if m.content == expected), None), timeout=30
        )
        assert reply.webhook_id is not None  # the character spoke under its own name
        assert discord.message_view(reply).author_name == "Ada"
    finally:
        if bridge.returncode is None:
            bridge.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bridge.wait(), timeout=30)
        log_file.close()
        await discord.stop()
        await cai.stop()
    log = (tmp_path / "bridge.log").read_text()
    assert bridge.returncode == 0, log
    assert "Traceback" not in log and "discord is running" in log
    assert "WARNING" not in log, "a normal start and stop warns about nothing"
    assert "not-a-real-discord-token" not in log and cai.token not in log
