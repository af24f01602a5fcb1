"""``charbridge sandbox`` on its fake Discord: mentions, slash commands, admins, webhooks, DMs, and switching
platforms within one session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.admin.permissions import REFUSALS, Access
from bot.admin.render import bound, preset_label
from bot.models import Preset
from fakes.characterai import DEMO_CHARACTERS
from sandbox.demo import demo_presets
from sandbox.discord_slash import BOOLEAN, INTEGER, STRING, SUB_COMMAND, parse_slash
from sandbox.platform import SandboxError
from tests.sandbox.support import BOT, DISCORD_BOT, ECHO, REDBEARD, ROOT, ZORA, as_bot, messages, notes, run_script

PRESETS = {preset.name: preset for preset in demo_presets(DEMO_CHARACTERS)}
ONLY_YOU = f"{DISCORD_BOT} (only you)"
BOT_ITSELF = f"{DISCORD_BOT} (bot)"


def test_a_channel_an_admin_choosing_the_character_and_a_dm(tmp_path: Path) -> None:
    script = [
        ":platform discord",
        ":chat group Tavern",
        f"{BOT} who are you?",
        "/preset use zora",  # Alice has no Manage Server yet: refused, and only she sees it
        ":admin on",
        "/preset use",  # a missing option: a hint, nothing sent
        "/preset use zora",
        f"{BOT} will it rain?",
        ":reply and tomorrow?",  # a reply to the character's (webhook) message reaches the bot
        "/chat how are you",
        ":chat private",
        "/status",  # the slash commands are registered in the demo server only
        "hello there, friend",
        "/quit",
    ]
    result = run_script(tmp_path, script)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    transcript = result.stdout
    assert f"Alice@discord:#tavern> {BOT} will it rain?" in transcript
    assert "Alice@discord:dm> hello there, friend" in transcript
    assert messages(transcript) == [
        (f"{REDBEARD.name} (webhook)", REDBEARD.reply_to("who are you?")),
        (ONLY_YOU, REFUSALS[Access.CONVERSATION]),
        (ONLY_YOU, bound(PRESETS["zora"], None)),
        (f"{ZORA.name} (webhook)", ZORA.greeting),
        (f"{ZORA.name} (webhook)", ZORA.reply_to("will it rain?")),
        (f"{ZORA.name} (webhook)", ZORA.reply_to("and tomorrow?")),
        (BOT_ITSELF, as_bot(ZORA, ZORA.reply_to("how are you"))),
        (BOT_ITSELF, as_bot(REDBEARD, REDBEARD.reply_to("hello there, friend"))),
    ]
    said = notes(transcript)
    assert "Alice has the role" in said and "(Manage Server)" in said
    assert "/preset use needs name (usage: /preset use <name> [chat_id])" in said
    assert "Discord offers no slash commands in a DM here" in said


def test_switching_platforms_back_and_forth_keeps_each_ones_place(tmp_path: Path) -> None:
    script = [
        "hello there, friend",
        ":platform discord",
        "hello there, friend",
        ":platform telegram",
        ":chat group Tavern",
        ":admin on",
        "/preset use echo",  # binds the Telegram group only
        ":platform discord",
        ":chat group Tavern",
        f"{BOT} still a pirate?",
        ":platform telegram",  # back in the Telegram group, where Echo answers
        f"{BOT} and here?",
        ":platform discord",
        ":platform sms",
        ":counters",
        "/quit",
    ]
    result = run_script(tmp_path, script)

    assert result.returncode == 0, result.stderr
    transcript = result.stdout
    for prompt in ("Alice@private> hello there, friend", "Alice@discord:dm> hello there, friend",
                   f"Alice@discord:#tavern> {BOT} still a pirate?", f"Alice@Tavern> {BOT} and here?",
                   "Alice@discord:#tavern> :counters"):  # fmt: skip
        assert prompt in transcript
    assert messages(transcript) == [
        (f"{REDBEARD.name} (bot)", REDBEARD.reply_to("hello there, friend")),
        (BOT_ITSELF, as_bot(REDBEARD, REDBEARD.reply_to("hello there, friend"))),
        (f"{ECHO.name} (bot)", bound(PRESETS["echo"], None)),
        (f"{ECHO.name} (bot)", ECHO.greeting),
        (f"{REDBEARD.name} (webhook)", REDBEARD.reply_to("still a pirate?")),
        (f"{ECHO.name} (bot)", ECHO.reply_to("and here?")),
    ]
    said = notes(transcript)
    assert "usage: :platform telegram|discord" in said
    # what the fake Discord counted: the DM reply by the bot itself, one character message by webhook
    assert "discord: 1 messages by the bot, 1 by characters through webhooks, 0 slash command answers" in said
    assert "telegram: 4 messages sent" in said


def test_preset_create_maps_its_options_and_the_new_preset_answers_everything(tmp_path: Path) -> None:
    created = Preset(name="kira", character_id=ECHO.id, display_name="Kira K", trigger="all")
    script = [
        ":platform discord",
        ":chat group general",  # the demo server's own channel
        ":admin on",
        f'/preset create kira {ECHO.id} display_name="Kira K" trigger=all',
        "/preset use kira",
        "no mention at all",  # trigger=all: answered anyway, under the preset's display name
        "/preset history many",
        "/start",
        "/quit",
    ]
    result = run_script(tmp_path, script)

    assert result.returncode == 0, result.stderr
    assert messages(result.stdout) == [
        (ONLY_YOU, f"Created {preset_label(created)}: {created.backend} {created.character_id}."),
        (ONLY_YOU, bound(created, None)),
        ("Kira K (webhook)", ECHO.greeting),
        ("Kira K (webhook)", ECHO.reply_to("no mention at all")),
    ]
    said = notes(result.stdout)
    assert "count must be a number (usage: /preset history [count] [everywhere])" in said
    assert "Discord offers no /start in #general; the bot's slash commands there: /chat " in said


def test_the_discord_example_runs_as_the_readme_shows_it(tmp_path: Path) -> None:
    example = (ROOT / "sandbox" / "examples" / "discord.txt").read_text().splitlines()
    result = run_script(tmp_path, example, scale="0.03")
    assert result.returncode == 0, result.stderr
    said = notes(result.stdout)
    assert "usage:" not in said and "unknown sandbox command" not in said and "offers no" not in said
    shown = messages(result.stdout)
    assert (f"{ZORA.name} (webhook)", ZORA.reply_to("and what about me?")) in shown  # Bob's :reply reached the bot
    assert (BOT_ITSELF, as_bot(ZORA, ZORA.reply_to("is the sea calm tonight?"))) in shown


PRESET = {
    "name": "preset",
    "options": [
        {"type": SUB_COMMAND, "name": "create", "options": [
            {"type": STRING, "name": "name", "required": True},
            {"type": STRING, "name": "character_id", "required": True},
            {"type": STRING, "name": "options"},
        ]},
        {"type": SUB_COMMAND, "name": "delete", "options": [
            {"type": STRING, "name": "name", "required": True}, {"type": BOOLEAN, "name": "force"},
        ]},
        {"type": SUB_COMMAND, "name": "history", "options": [
            {"type": INTEGER, "name": "count", "min_value": 1, "max_value": 50},
            {"type": BOOLEAN, "name": "everywhere"},
        ]},
    ],
}  # fmt: skip
SET = {"name": "set", "options": [{"type": STRING, "name": "key", "required": True}, {"type": STRING, "name": "value"}]}


def test_typed_words_fill_the_declared_options_in_order() -> None:
    created = parse_slash('/preset create kira abc greeting=no display_name="Kira K"', [PRESET], where="here")
    assert (created.name, created.subcommand) == ("preset", "create")
    assert created.options == {"name": "kira", "character_id": "abc", "options": 'greeting=no display_name="Kira K"'}
    assert parse_slash("/preset delete kira force", [PRESET], where="here").options == {"name": "kira", "force": True}
    assert parse_slash("/preset history 7 no", [PRESET], where="").options == {"count": 7, "everywhere": False}
    quoted = parse_slash('/set greeting "Ahoy there"', [SET], where="")
    assert quoted.options == {"key": "greeting", "value": "Ahoy there"}

    for wrong, hint in [("/preset history 99", "count must be from 1 to 50"),
                        ("/preset drop x", "usage: /preset create|"),
                        ("/preset delete a force extra", "too many words"),
                        ("/preset create kira", "needs character_id"),
                        ("/nope", "no /nope here; the bot's slash commands there: /preset")]:  # fmt: skip
        with pytest.raises(SandboxError, match=hint.replace("|", r"\|")):
            parse_slash(wrong, [PRESET], where="here")
