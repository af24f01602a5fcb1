"""A pure parser from an admin command's text to a typed command, with the usage of every command.

``parse("preset", "use kira")`` -> ``UsePreset(name="kira")``. Bad input raises ``CommandError`` whose text
is one line of explanation followed by the correct usage.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.admin.options import KEYS_HELP, MAX_DISPLAY_NAME, OptionError, PresetChange, one_line, parse_change
from bot.models import PRESET_NAME_PATTERN, Preset
from bot.text import clip

USAGE: dict[str, str] = {
    "list": "/preset list",
    "show": "/preset show <name>",
    "use": "/preset use <name> [chat_id]",
    "unbind": "/preset unbind",
    "create": "/preset create <name> <character_id> [key=value ...]",
    "set": "/preset set <name> <key> <value>",
    "delete": "/preset delete <name> [force]",
    "history": "/preset history [n] [all]",
    "character": "/character <character_id>",
    "npc list": "/preset npc list <name>",
    "npc add": "/preset npc add <name> <character_id> [npc name]",
    "npc remove": "/preset npc remove <name> <npc name>",
    "npc set": "/preset npc set <name> <key> <value>",
}
NPC_KEYS = ("room", "fallback", "merge_queued", "queue_notice_after", "scenes", "scene_delay", "scene_max_turns")
NPC_KEYS_HELP = (
    "npc keys: room (true/false), fallback (room/last_speaker/none), merge_queued (true/false), "
    "queue_notice_after (seconds, or 'never'), scenes (true/false), scene_delay (seconds), scene_max_turns (0-20)"
)
NEVER_WORDS = {"never", "off", "none"}
MAX_NPC_NAME = MAX_DISPLAY_NAME
HISTORY_DEFAULT = 10
HISTORY_MAX = 50

_UPSTREAM_ID = re.compile(r"^[A-Za-z0-9_:.-]{1,128}$")
_NAME = re.compile(PRESET_NAME_PATTERN)
# A whitespace-separated token; double-quoted parts may hold spaces: display_name="Kira the Great".
_TOKEN = re.compile(r'(?:"[^"]*"|[^\s"]+)+')
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"'})  # phone keyboards "correct" quotes
_FORCE_WORDS = {"force", "--force", "-f"}


class CommandError(ValueError):
    """Bad arguments: a one-line explanation plus the usage of the command."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage

    @property
    def text(self) -> str:
        return f"{self.message}\nUsage: {self.usage}"


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShowHelp(_Command):
    kind: Literal["help"] = "help"


class ListPresets(_Command):
    kind: Literal["list"] = "list"


class ShowPreset(_Command):
    kind: Literal["show"] = "show"
    name: str


class UsePreset(_Command):
    kind: Literal["use"] = "use"
    name: str
    chat_id: str | None = None  # resume this upstream chat instead of starting a new one


class Unbind(_Command):
    kind: Literal["unbind"] = "unbind"


class CreatePreset(_Command):
    kind: Literal["create"] = "create"
    name: str
    character_id: str
    changes: tuple[PresetChange, ...] = ()


class SetOption(_Command):
    kind: Literal["set"] = "set"
    name: str
    change: PresetChange


class DeletePreset(_Command):
    kind: Literal["delete"] = "delete"
    name: str
    force: bool = False


class ShowHistory(_Command):
    kind: Literal["history"] = "history"
    limit: int = Field(default=HISTORY_DEFAULT, ge=1, le=HISTORY_MAX)
    everywhere: bool = False  # every conversation's changes (owners only), not just this one's


class BindCharacter(_Command):
    kind: Literal["character"] = "character"
    character_id: str


class ListCast(_Command):
    kind: Literal["npc_list"] = "npc_list"
    name: str


class AddNpc(_Command):
    kind: Literal["npc_add"] = "npc_add"
    name: str
    character_id: str
    npc_name: str | None = None  # None: the character's own name


class RemoveNpc(_Command):
    kind: Literal["npc_remove"] = "npc_remove"
    name: str
    npc_name: str  # a cast member's name or character id


class SetNpcOption(_Command):
    kind: Literal["npc_set"] = "npc_set"
    name: str
    key: str
    value: str | bool | float | int | None  # None with reset=False: 'never' (queue_notice_after)
    reset: bool = False  # back to the default

    def describe(self) -> str:
        shown = "default" if self.reset else "never" if self.value is None else self.value
        return f"{self.key}={shown}"


AdminCommand = (
    ShowHelp | ListPresets | ShowPreset | UsePreset | Unbind | CreatePreset | SetOption | DeletePreset
    | ShowHistory | BindCharacter | ListCast | AddNpc | RemoveNpc | SetNpcOption
)  # fmt: skip


def full_usage() -> str:
    return "\n".join([*USAGE.values(), KEYS_HELP, NPC_KEYS_HELP])


def command_name(command: str) -> str:
    """'/Preset@my_bot' -> 'preset'."""
    return command.strip().lstrip("/").split("@", 1)[0].lower()


def tokenize(args: str, usage: str) -> list[str]:
    text = args.translate(_SMART_QUOTES)
    if text.count('"') % 2:
        raise CommandError("a quote is not closed", usage)
    return [token.replace('"', "") for token in _TOKEN.findall(text)]


def parse(command: str, args: str) -> AdminCommand:
    name = command_name(command)
    if name == "character":
        tokens = tokenize(args, USAGE["character"])
        _expect_count(tokens, 1, 1, "character", "give exactly one character id")
        return BindCharacter(character_id=character_id(tokens[0], USAGE["character"]))
    if name != "preset":
        raise CommandError(f"unknown command '/{clip(name)}'", full_usage())
    words = args.split()
    tokens = tokenize(args, USAGE.get(words[0].lower(), full_usage()) if words else full_usage())
    if not tokens or tokens[0].lower() == "help":
        return ShowHelp()
    sub, rest = tokens[0].lower(), tokens[1:]
    parser = _SUBCOMMANDS.get(sub)
    if parser is None:
        raise CommandError(f"unknown subcommand '{clip(sub)}'", full_usage())
    return parser(rest)


def preset_name(raw: str, usage: str) -> str:
    name = raw.lower()
    if not _NAME.match(name):
        raise CommandError(
            f"'{clip(raw)}' is not a valid preset name (lowercase letters, digits, - and _; up to 32)", usage
        )
    return name


def character_id(raw: str, usage: str) -> str:
    """A character id, or the character's page address on character.ai (the id is taken from it)."""
    candidate = _id_from_url(raw) if raw.lower().startswith(("http://", "https://")) else raw
    if candidate is None or not _UPSTREAM_ID.match(candidate):
        raise CommandError(f"'{clip(raw)}' is not a valid character id", usage)
    return candidate


def _id_from_url(url: str) -> str | None:
    parts = urlsplit(url)
    query = parse_qs(parts.query).get("char")
    if query:
        return query[0]
    segments = [s for s in parts.path.split("/") if s]
    return segments[-1] if len(segments) >= 2 and segments[-2] == "chat" else None


def _expect_count(tokens: list[str], least: int, most: int, sub: str, message: str) -> None:
    if not least <= len(tokens) <= most:
        raise CommandError(message, USAGE[sub])


def _parse_list(rest: list[str]) -> AdminCommand:
    _expect_count(rest, 0, 0, "list", "list takes no arguments")
    return ListPresets()


def _parse_show(rest: list[str]) -> AdminCommand:
    _expect_count(rest, 1, 1, "show", "give one preset name")
    return ShowPreset(name=preset_name(rest[0], USAGE["show"]))


def _parse_use(rest: list[str]) -> AdminCommand:
    usage = USAGE["use"]
    _expect_count(rest, 1, 2, "use", "give a preset name and, to resume a chat, its chat id")
    chat_id = None
    if len(rest) == 2:
        if not _UPSTREAM_ID.match(rest[1]):
            raise CommandError(f"'{clip(rest[1])}' is not a valid chat id", usage)
        chat_id = rest[1]
    return UsePreset(name=preset_name(rest[0], usage), chat_id=chat_id)


def _parse_unbind(rest: list[str]) -> AdminCommand:
    _expect_count(rest, 0, 0, "unbind", "unbind takes no arguments")
    return Unbind()


def _parse_create(rest: list[str]) -> AdminCommand:
    usage = USAGE["create"]
    if len(rest) < 2:
        raise CommandError("give a preset name and a character id", usage)
    changes: list[PresetChange] = []
    for option in rest[2:]:
        key, equals, value = option.partition("=")
        if not equals or not key:
            raise CommandError(f"'{clip(option)}' is not a key=value option", usage)
        try:
            changes.append(parse_change(key, value))
        except OptionError as exc:
            raise CommandError(str(exc), usage) from None
    if len({c.key for c in changes}) != len(changes):
        raise CommandError("an option is given twice", usage)
    return CreatePreset(
        name=preset_name(rest[0], usage), character_id=character_id(rest[1], usage), changes=tuple(changes)
    )


def _parse_set(rest: list[str]) -> AdminCommand:
    usage = USAGE["set"]
    if len(rest) < 3:
        raise CommandError("give a preset name, a key and a value", usage)
    # The value is the rest of the line, so a display name may hold spaces without quotes.
    try:
        change = parse_change(rest[1], " ".join(rest[2:]))
    except OptionError as exc:
        raise CommandError(str(exc), usage) from None
    return SetOption(name=preset_name(rest[0], usage), change=change)


def _parse_delete(rest: list[str]) -> AdminCommand:
    usage = USAGE["delete"]
    _expect_count(rest, 1, 2, "delete", "give one preset name, and 'force' to delete it while bound")
    force = len(rest) == 2
    if force and rest[1].lower() not in _FORCE_WORDS:
        raise CommandError(f"unexpected '{clip(rest[1])}' (only 'force' may follow the name)", usage)
    return DeletePreset(name=preset_name(rest[0], usage), force=force)


def _parse_history(rest: list[str]) -> AdminCommand:
    usage = USAGE["history"]
    limit: int | None = None
    everywhere = False
    for token in rest:
        if token.lower() == "all" and not everywhere:
            everywhere = True
        elif token.isdigit() and limit is None and 1 <= int(token) <= HISTORY_MAX:
            limit = int(token)
        else:
            wanted = f"give a count from 1 to {HISTORY_MAX}, and/or 'all'"
            raise CommandError(f"unexpected '{clip(token)}' ({wanted})", usage)
    return ShowHistory(limit=limit or HISTORY_DEFAULT, everywhere=everywhere)


def _parse_npc(rest: list[str]) -> AdminCommand:
    action = rest[0].lower() if rest else ""
    usage = USAGE.get(f"npc {action}")
    if usage is None:
        problem = f"unknown npc action '{clip(action)}'" if action else "say what to do with the cast"
        raise CommandError(problem, _npc_usage())
    args = rest[1:]
    if not args:
        raise CommandError("give a preset name", usage)
    name = preset_name(args[0], usage)
    if action == "list":
        if len(args) != 1:
            raise CommandError("npc list takes only the preset name", usage)
        return ListCast(name=name)
    if action == "add":
        if len(args) < 2:
            raise CommandError("give a preset name and a character id", usage)
        npc_name = " ".join(args[2:]).strip() or None
        if npc_name is not None:
            _check_npc_name(npc_name, usage)
        return AddNpc(name=name, character_id=character_id(args[1], usage), npc_name=npc_name)
    if action == "remove":
        if len(args) < 2:
            raise CommandError("give a preset name and the name of a cast member", usage)
        return RemoveNpc(name=name, npc_name=" ".join(args[1:]))
    if len(args) < 3:
        raise CommandError("give a preset name, a key and a value", usage)
    return _npc_option(name, args[1].lower(), " ".join(args[2:]).strip(), usage)


def _npc_usage() -> str:
    return "\n".join(v for k, v in USAGE.items() if k.startswith("npc "))


def _check_npc_name(npc_name: str, usage: str) -> None:
    if len(npc_name) > MAX_NPC_NAME or not re.search(r"\w", npc_name):
        rule = f"1 to {MAX_NPC_NAME} characters, with a letter"
        raise CommandError(f"'{clip(npc_name)}' is not a usable name ({rule})", usage)


def _npc_option(name: str, key: str, raw: str, usage: str) -> SetNpcOption:
    if key not in NPC_KEYS:
        raise CommandError(f"unknown npc key '{clip(key)}' (keys: {', '.join(NPC_KEYS)})", usage)
    if raw.lower() == "default":
        return SetNpcOption(name=name, key=key, value=None, reset=True)
    if key == "queue_notice_after" and raw.lower() in NEVER_WORDS:
        return SetNpcOption(name=name, key=key, value=None)
    try:
        checked = Preset.model_validate({"name": "check", key: raw})
    except ValidationError as exc:
        raise CommandError(f"{key}: {one_line(exc)}", usage) from None
    value: str | bool | float | int | None = getattr(checked, key)
    return SetNpcOption(name=name, key=key, value=value)


_SUBCOMMANDS = {
    "list": _parse_list,
    "show": _parse_show,
    "use": _parse_use,
    "unbind": _parse_unbind,
    "create": _parse_create,
    "set": _parse_set,
    "delete": _parse_delete,
    "history": _parse_history,
    "npc": _parse_npc,
}
