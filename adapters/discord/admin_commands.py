"""The admin slash commands: /preset (subcommands, preset names autocompleted) and /character.

Each subcommand's named options are turned into the text the platform-neutral admin core parses, in the
order the core expects (Discord itself may send options in any order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from adapters.discord.commands import AnyCommand, CommandHandler

PresetNames = Callable[[str], Awaitable[list[str]]]


def _words(*words: str | None) -> str:
    """Option values as the core's parser reads them: in order, a value with spaces double-quoted."""
    quoted = [f'"{w.strip()}"' if any(c.isspace() for c in w.strip()) else w.strip() for w in words if w]
    return " ".join(quoted)


def admin_commands(handle: CommandHandler, names: PresetNames) -> list[AnyCommand]:
    """``handle`` answers each command as the core's ``/<command> <args>``; ``names`` autocompletes presets."""

    async def run(interaction: discord.Interaction, command: str, args: str) -> None:
        await handle(interaction, command=command, text=args, ephemeral=True)

    async def preset_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in await names(current)]

    preset = app_commands.Group(name="preset", description="Choose which character answers here (admins)")

    @preset.command(name="list", description="Every preset, and which one answers here")
    async def list_presets(interaction: discord.Interaction) -> None:
        await run(interaction, "preset", _words("list"))

    @preset.command(name="show", description="One preset's settings")
    @app_commands.autocomplete(name=preset_names)
    async def show(interaction: discord.Interaction, name: str) -> None:
        await run(interaction, "preset", _words("show", name))

    @preset.command(name="use", description="Bind this channel or thread to a preset")
    @app_commands.describe(chat_id="continue this upstream chat instead of starting a new one")
    @app_commands.autocomplete(name=preset_names)
    async def use(interaction: discord.Interaction, name: str, chat_id: str | None = None) -> None:
        await run(interaction, "preset", _words("use", name, chat_id))

    @preset.command(name="unbind", description="Remove this place's binding (back to the default)")
    async def unbind(interaction: discord.Interaction) -> None:
        await run(interaction, "preset", _words("unbind"))

    @preset.command(name="create", description="Create a preset for a character")
    @app_commands.describe(options='more settings as key=value, e.g. display_name="Kira" trigger=all')
    async def create(
        interaction: discord.Interaction, name: str, character_id: str, options: str | None = None
    ) -> None:
        # options is already key=value text for the core's parser, so it is passed on as it is
        await run(interaction, "preset", _words("create", name, character_id) + (f" {options}" if options else ""))

    @preset.command(name="set", description="Change one setting of a preset")
    @app_commands.describe(key="display_name, avatar_url, greeting, trigger, scope or pacing.<field>")
    @app_commands.autocomplete(name=preset_names)
    async def set_key(interaction: discord.Interaction, name: str, key: str, value: str) -> None:
        await run(interaction, "preset", _words("set", name, key, value))

    @preset.command(name="delete", description="Delete an admin-made preset")
    @app_commands.autocomplete(name=preset_names)
    async def delete(interaction: discord.Interaction, name: str, force: bool = False) -> None:
        await run(interaction, "preset", _words("delete", name, "force" if force else None))

    @preset.command(name="history", description="The latest preset changes here")
    async def history(
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, 50] | None = None,
        everywhere: bool = False,
    ) -> None:
        await run(
            interaction, "preset", _words("history", str(count) if count else None, "all" if everywhere else None)
        )

    @app_commands.command(name="character", description="Bind a character here by its id (admins)")
    @app_commands.describe(character_id="the id from the character's address on character.ai")
    async def character(interaction: discord.Interaction, character_id: str) -> None:
        await run(interaction, "character", _words(character_id))

    return [preset, character]
