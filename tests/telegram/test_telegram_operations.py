"""How the Telegram bridge behaves for its operator: webhook mode, a rejected Character.AI token."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.telegram.conftest import CHARACTERS, close_world, open_world

ADA = CHARACTERS[0]


async def test_webhook_mode_receives_updates_on_the_public_urls_path(tmp_path: Path) -> None:
    port = free_port()
    webhook = {
        "mode": "webhook",
        "webhook_url": f"http://127.0.0.1:{port}/hooks/telegram",
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
        "webhook_secret": "not-a-real-secret",
    }
    world = await open_world(tmp_path, telegram=webhook)
    try:
        tg = world.telegram
        registered = tg.bot("CharBot").webhook  # set by the bridge at start
        assert registered is not None and registered.url == webhook["webhook_url"]
        assert registered.secret_token == webhook["webhook_secret"]
        ann = tg.add_user("Ann")
        chat = tg.private_chat(ann)
        tg.user_sends(chat, ann, "hello by webhook")
        await tg.wait_for_bot_message(chat, ADA.reply_to("hello by webhook"), timeout=15)
        assert tg.counters().requests.get("getUpdates", 0) == 0
    finally:
        await close_world(world)


async def test_a_rejected_characterai_token_is_one_log_line_and_a_clear_chat_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad_token = "definitely-not-the-fakes-token-0123456789"
    with caplog.at_level(logging.INFO):
        world = await open_world(tmp_path, characterai={"token": bad_token})
    try:
        tg = world.telegram
        ann = tg.add_user("Ann")
        chat = tg.private_chat(ann)
        tg.user_sends(chat, ann, "are you there?")
        answer = await tg.wait_for(
            lambda: next((m for m in tg.bot_messages(chat) if "The character is unavailable right now." in m.text),
                         None), timeout=15
        )  # fmt: skip
        startup = [r for r in caplog.records if "backend unavailable" in r.getMessage()]
        assert len(startup) == 1 and startup[0].levelno == logging.ERROR
        everything = caplog.text + answer.text
        assert bad_token not in everything
    finally:
        await close_world(world)


async def test_a_rejected_formatted_final_falls_back_to_the_plain_text(tmp_path: Path) -> None:
    world = await open_world(tmp_path, telegram={"final_format": "html"})
    try:
        tg = world.telegram
        ann = tg.add_user("Ann")
        chat = tg.private_chat(ann)
        # Overlapping emphasis becomes improperly nested HTML, which Telegram refuses ("can't parse entities").
        reply = "**Bold *and** more* words for the archive."
        world.cai.script_reply("ada", reply)
        tg.user_sends(chat, ann, "hello")
        message = await tg.wait_for_bot_message(chat, reply, timeout=15)
        refused = [c for c in tg.calls() if c.params.get("parse_mode") == "HTML"]
        assert refused and all(c.status == 400 for c in refused), "the formatted final was tried and refused"
        assert message.entities == [], "the fallback is plain text"
    finally:
        await close_world(world)


async def test_the_formatted_final_renders_markdown(tmp_path: Path) -> None:
    world = await open_world(tmp_path, telegram={"final_format": "html"})
    try:
        tg = world.telegram
        ann = tg.add_user("Ann")
        chat = tg.private_chat(ann)
        world.cai.script_reply("ada", "*bows* Welcome to the **archive**.")
        tg.user_sends(chat, ann, "hello")
        message = await tg.wait_for_bot_message(chat, "bows Welcome to the archive.", timeout=15)
        kinds = sorted(entity["type"] for entity in message.entities)
        assert kinds == ["bold", "italic"]
    finally:
        await close_world(world)
