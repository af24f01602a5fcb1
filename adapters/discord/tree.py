"""The slash command tree: every command interaction is checked against the commands the bot registers before
discord.py runs it, and one it cannot run is answered instead of being left to time out.

Discord's app shows commands from its own cache, so after an update (or with a client that cached an older
registration) it can send a command the bot no longer has, a group without its subcommand, an unknown
subcommand or option, an option of another type, or a command missing a required option. discord.py would
raise on those (``CommandNotFound``, ``CommandSignatureMismatch``) after nobody acknowledged the interaction,
and Discord would show "The application did not respond". ``BridgeTree.interaction_check`` (discord.py's hook
for exactly this) answers them with a short ephemeral line; autocomplete requests get an empty list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import AnyCommand

log = logging.getLogger("charbridge.discord")

OUT_OF_DATE = "⚠️ This command is out of date (Discord is still updating its list). Try again in a minute."
CANNOT_RUN = "⚠️ This command could not be run. Try again in a minute."
_SUBCOMMAND, _SUBCOMMAND_GROUP = 1, 2
_CHAT_INPUT = 1
_STRING, _INTEGER, _BOOLEAN, _NUMBER = 3, 4, 5, 10
_ENTITY_TYPES = frozenset({6, 7, 8, 9, 11})  # user, channel, role, mentionable, attachment: a snowflake string


@dataclass(frozen=True)
class Refusal:
    """Why an interaction is not run: ``text`` for the user, ``reason`` for the log."""

    text: str
    reason: str


def _stale(reason: str) -> Refusal:
    return Refusal(OUT_OF_DATE, reason)


def _snowflake(value: object) -> int | None:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if text.isdigit() else None


def _registered(tree: app_commands.CommandTree[Any], name: str, guild_id: object) -> AnyCommand | None:
    """The root command named ``name``, looked up the way discord.py does: the command's guild, then global."""
    found = None
    guild = _snowflake(guild_id)
    if guild is not None:
        found = tree.get_command(name, guild=discord.Object(id=guild))
    if found is None and (guild is None or tree.fallback_to_global):
        found = tree.get_command(name)
    return found if isinstance(found, app_commands.Command | app_commands.Group) else None


def _value_fits(option_type: int, value: object) -> bool:
    """Whether an option's value is what discord.py's namespace expects for its type."""
    if option_type == _STRING:
        return isinstance(value, str)
    if option_type == _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if option_type == _BOOLEAN:
        return isinstance(value, bool)
    if option_type == _NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return option_type in _ENTITY_TYPES and _snowflake(value) is not None


def _options(raw: object) -> list[Mapping[str, Any]] | None:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(option, Mapping) for option in raw):
        return None
    return list(raw)


def check_interaction(
    tree: app_commands.CommandTree[Any], data: Mapping[str, Any], *, autocomplete: bool = False
) -> Refusal | None:
    """None when ``data`` (an interaction's ``data``) names a registered command the way it is registered;
    else why not. An autocomplete request must focus an option that has autocomplete, and may leave required
    options out."""
    name = data.get("name")
    if data.get("type", _CHAT_INPUT) != _CHAT_INPUT or not isinstance(name, str):
        return _stale(f"an interaction for a command of type {data.get('type')!r} named {name!r}")
    command = _registered(tree, name, data.get("guild_id"))
    path = [name]
    options = _options(data.get("options"))
    while command is not None and isinstance(command, app_commands.Group) and options is not None:
        sub = next((o for o in options if o.get("type") in (_SUBCOMMAND, _SUBCOMMAND_GROUP)), None)
        if sub is None:
            return _stale(f"/{' '.join(path)} came without a subcommand")
        path.append(str(sub.get("name")))
        command = command.get_command(path[-1])
        options = _options(sub.get("options"))
    shown = "/" + " ".join(path)
    if command is None:
        return _stale(f"{shown} is not registered")
    if options is None or isinstance(command, app_commands.Group):
        return _stale(f"{shown} came with malformed options")
    return _check_options(command, options, shown, autocomplete)


def _check_options(
    command: app_commands.Command[Any, ..., Any], options: Sequence[Mapping[str, Any]], shown: str, autocomplete: bool
) -> Refusal | None:
    params = {param.display_name: param for param in command.parameters}
    focused = None
    for option in options:
        param = params.get(str(option.get("name")))
        if param is None:
            return _stale(f"{shown} has no option {option.get('name')!r}")
        option_type = option.get("type")
        if option_type != param.type.value:
            return _stale(f"{shown}'s option {param.display_name} came as type {option_type!r}")
        if option.get("focused"):
            focused = param
        elif not _value_fits(param.type.value, option.get("value")):
            return _stale(f"{shown}'s option {param.display_name} came with a value of another type")
    if autocomplete:
        if focused is None or not focused.autocomplete:
            return _stale(f"an autocomplete request for {shown} focuses no option that has autocomplete")
        return None
    given = {str(option.get("name")) for option in options}
    missing = [param for param in command.parameters if param.required and param.display_name not in given]
    if missing:
        names = ", ".join(param.display_name for param in missing)
        usage = " ".join(f"{param.display_name}:…" for param in command.parameters if param.required)
        return Refusal(f"⚠️ Missing {names}. Usage: {shown} {usage}", f"{shown} came without {names}")
    return None


class BridgeTree(app_commands.CommandTree[Any]):
    """discord.py's command tree, refusing (and answering) the interactions it could not run."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        autocomplete = interaction.type is discord.InteractionType.autocomplete
        refusal = check_interaction(self, dict(interaction.data or {}), autocomplete=autocomplete)
        if refusal is None:
            return True
        log.warning("slash command not run: %s", refusal.reason)
        await answer_refusal(interaction, refusal.text)
        return False


async def answer_refusal(interaction: discord.Interaction, text: str) -> None:
    """Answer an interaction that will not run: the user alone sees ``text`` (an autocomplete request gets
    no choices). Nothing more is done when it was already answered or Discord no longer takes an answer."""
    try:
        if interaction.response.is_done():
            return
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)
