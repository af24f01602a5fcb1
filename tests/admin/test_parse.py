"""The admin command parser and option validation: pure functions, no store, no backend."""

from __future__ import annotations

import pytest

from bot.admin.options import PresetChange, apply_changes, parse_change
from bot.admin.parse import (
    USAGE,
    BindCharacter,
    CommandError,
    CreatePreset,
    DeletePreset,
    ListPresets,
    SetOption,
    ShowHelp,
    ShowHistory,
    ShowPreset,
    Unbind,
    UsePreset,
    parse,
)
from bot.admin.permissions import Role, community_of, role_of
from bot.models import Preset
from tests.admin.conftest import request


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("preset", "", ShowHelp()),
        ("preset", "help", ShowHelp()),
        ("preset", "list", ListPresets()),
        ("/preset", "LIST", ListPresets()),
        ("/preset@charbridge_bot", "show Kira", ShowPreset(name="kira")),
        ("preset", "use kira", UsePreset(name="kira")),
        ("preset", "use kira 6f1c-22aa", UsePreset(name="kira", chat_id="6f1c-22aa")),
        ("preset", "unbind", Unbind()),
        ("preset", "delete kira", DeletePreset(name="kira")),
        ("preset", "delete kira force", DeletePreset(name="kira", force=True)),
        ("preset", "history", ShowHistory()),
        ("preset", "history 3", ShowHistory(limit=3)),
        ("preset", "history all 7", ShowHistory(limit=7, everywhere=True)),
        ("character", "AbC_12-x", BindCharacter(character_id="AbC_12-x")),
        ("character", "https://character.ai/chat/AbC_12-x", BindCharacter(character_id="AbC_12-x")),
        ("character", "https://beta.character.ai/chat?char=Q9z", BindCharacter(character_id="Q9z")),
    ],
)
def test_commands_parse_to_typed_models(command: str, args: str, expected: object) -> None:
    assert parse(command, args) == expected


def test_create_takes_validated_options_with_quoted_values() -> None:
    parsed = parse(
        "preset",
        'create nova nova-char display_name="Nova the Great" greeting=off trigger=all scope=user '
        "pacing.min_interval=2.5 avatar_url=https://img.example/n.png",
    )
    assert isinstance(parsed, CreatePreset)
    assert (parsed.name, parsed.character_id) == ("nova", "nova-char")
    assert {c.key: c.value for c in parsed.changes} == {
        "display_name": "Nova the Great",
        "greeting": False,
        "trigger": "all",
        "scope": "user",
        "pacing.min_interval": 2.5,
        "avatar_url": "https://img.example/n.png",
    }


def test_phone_keyboard_quotes_work_like_plain_ones() -> None:
    parsed = parse("preset", "create nova nova-char display_name=“Nova Prime”")
    assert isinstance(parsed, CreatePreset)
    assert parsed.changes[0].value == "Nova Prime"


def test_set_takes_the_rest_of_the_line_as_the_value() -> None:
    parsed = parse("preset", "set kira display_name Kira of the North")
    assert parsed == SetOption(name="kira", change=PresetChange(key="display_name", value="Kira of the North"))
    reset = parse("preset", "set kira pacing.min_interval default")
    assert reset == SetOption(name="kira", change=PresetChange(key="pacing.min_interval", value=None))


@pytest.mark.parametrize(
    ("command", "args", "usage", "reason"),
    [
        ("preset", "frobnicate", USAGE["list"], "unknown subcommand 'frobnicate'"),
        ("preset", "show", USAGE["show"], "give one preset name"),
        ("preset", "show Not_Valid!", USAGE["show"], "is not a valid preset name"),
        ("preset", "use", USAGE["use"], "give a preset name"),
        ("preset", "use kira chat id too", USAGE["use"], "give a preset name"),
        ("preset", "use kira bad/chat", USAGE["use"], "'bad/chat' is not a valid chat id"),
        ("preset", "create nova", USAGE["create"], "give a preset name and a character id"),
        ("preset", "create nova bad!id", USAGE["create"], "'bad!id' is not a valid character id"),
        ("preset", "create nova nova-char colour=red", USAGE["create"], "unknown key 'colour'"),
        ("preset", "create nova nova-char trigger", USAGE["create"], "'trigger' is not a key=value option"),
        ("preset", "create nova nova-char trigger=all trigger=mention", USAGE["create"], "given twice"),
        ("preset", 'create nova nova-char display_name="Nova', USAGE["create"], "a quote is not closed"),
        ("preset", "set kira trigger sometimes", USAGE["set"], "trigger: Input should be 'mention' or 'all'"),
        ("preset", "set kira greeting maybe", USAGE["set"], "greeting: Input should be a valid boolean"),
        ("preset", "set kira scope", USAGE["set"], "give a preset name, a key and a value"),
        ("preset", "set kira pacing.min_interval fast", USAGE["set"], "pacing.min_interval: Input should be"),
        ("preset", "set kira pacing.min_interval -1", USAGE["set"], "greater than or equal to 0"),
        ("preset", "set kira pacing.destination_limit 2.5", USAGE["set"], "valid integer"),
        ("preset", "set kira pacing.warp_speed 9", USAGE["set"], "unknown pacing field 'warp_speed'"),
        ("preset", "set kira avatar_url ftp://x/y.png", USAGE["set"], "avatar_url: must be an http"),
        ("preset", f"set kira display_name {'x' * 81}", USAGE["set"], "display_name: must be 1 to 80"),
        ("preset", "delete kira now", USAGE["delete"], "only 'force' may follow the name"),
        ("preset", "history 0", USAGE["history"], "unexpected '0'"),
        ("preset", "history 51", USAGE["history"], "unexpected '51'"),
        ("preset", "history lots", USAGE["history"], "unexpected 'lots'"),
        ("preset", "list everything", USAGE["list"], "list takes no arguments"),
        ("character", "", USAGE["character"], "give exactly one character id"),
        ("character", "https://character.ai/profile", USAGE["character"], "is not a valid character id"),
        ("persona", "list", USAGE["list"], "unknown command '/persona'"),
    ],
)
def test_bad_arguments_explain_in_one_line_with_usage(command: str, args: str, usage: str, reason: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(command, args)
    first, *rest = caught.value.text.split("\n")
    assert reason in first
    assert rest and rest[0] == f"Usage: {usage}"


def test_apply_changes_sets_and_resets_keys() -> None:
    base = Preset(name="nova", character_id="n", display_name="Nova", pacing={"min_interval": 1.0})
    changed = apply_changes(
        base,
        [
            parse_change("display_name", "default"),
            parse_change("trigger", "all"),
            parse_change("pacing.min_interval", "default"),
            parse_change("pacing.max_interval", "9"),
        ],
    )
    assert changed.display_name is None
    assert changed.trigger == "all"
    assert changed.pacing == {"max_interval": 9.0}
    assert base.display_name == "Nova"  # the original is untouched


def test_roles_combine_owners_platform_admins_and_dms() -> None:
    owners = ["telegram:1"]
    assert role_of(request(user="telegram:1"), False, owners) is Role.OWNER
    assert role_of(request(user="telegram:2"), True, owners) is Role.ADMIN
    assert role_of(request(user="telegram:3", conversation="telegram:3", dm=True), False, owners) is Role.DM_USER
    assert role_of(request(user="telegram:3"), False, owners) is Role.MEMBER
    assert role_of(request(user="discord:1"), False, owners) is Role.MEMBER  # owners are platform-qualified


def test_a_platform_admins_reach_is_the_discord_server_or_the_telegram_chat() -> None:
    assert community_of("discord:10:20") == community_of("discord:10:30/40") == "discord:10"
    assert community_of("discord:dm:5") == "discord:dm:5"
    assert community_of("telegram:-100/7") == community_of("telegram:-100") == "telegram:-100"
    assert community_of("telegram:-100") != community_of("telegram:-200")
