"""The slash commands everybody uses (/chat, /reset, /regenerate, /status, /npc), their sync, and the admin
check.

The admin commands (/preset with subcommands and autocomplete, /character) are built elsewhere and added
with ``DiscordAdapter.add_command`` before the adapter starts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.npc import NPC_COMMAND
from bot.text import is_blank

log = logging.getLogger("charbridge.discord")

class CommandHandler(Protocol):
    """Answers a slash command; ``command``/``text`` replace what the interaction names (subcommands, options
    re-ordered for the core), ``shown`` is the user's line an NPC channel shows."""

    def __call__(
        self,
        interaction: discord.Interaction,
        *,
        command: str | None = None,
        text: str | None = None,
        shown: str | None = None,
        ephemeral: bool | None = None,
    ) -> Awaitable[None]: ...


AnyCommand = app_commands.Command[Any, Any, Any] | app_commands.Group

EPHEMERAL_COMMANDS = frozenset({"status"})  # answers only the user who asked sees


def chat_commands(handle: CommandHandler) -> list[AnyCommand]:
    """The user commands; every one of them is answered by ``handle`` (which reads the command's name)."""

    @app_commands.command(name="chat", description="Talk to the character")
    @app_commands.describe(message="What you say to the character")
    async def chat(interaction: discord.Interaction, message: str) -> None:
        await handle(interaction)

    @app_commands.command(name="reset", description="Start a new conversation with the character")
    async def reset(interaction: discord.Interaction) -> None:
        await handle(interaction)

    @app_commands.command(name="regenerate", description="Another answer to the last message")
    async def regenerate(interaction: discord.Interaction) -> None:
        await handle(interaction)

    @app_commands.command(name="status", description="Which character answers here")
    async def status(interaction: discord.Interaction) -> None:
        await handle(interaction)

    @app_commands.command(name=NPC_COMMAND, description="Talk to one of the characters cast here")
    @app_commands.describe(character="Which character (by name)", message="What you say to them")
    async def npc(interaction: discord.Interaction, character: str, message: str) -> None:
        name, said = character.strip(), message.strip()
        who = discord.utils.escape_markdown(interaction.user.display_name)
        shown = f"💬 **{who}** to **{name}**: {said}"
        text = "" if is_blank(name) or is_blank(said) else f"{name} {said}"  # the core answers with the usage
        await handle(interaction, command=NPC_COMMAND, text=text, shown=shown)

    return [chat, reset, regenerate, status, npc]


async def sync_commands(tree: app_commands.CommandTree[Any], guild_ids: Sequence[int]) -> None:
    """Register the commands with Discord: in the configured guilds (usable at once), else globally
    (Discord may take a while to show new global commands)."""
    if not guild_ids:
        try:
            synced = await tree.sync()
            log.info("synced %d global slash commands", len(synced))
        except discord.HTTPException as exc:
            log.error("could not sync the slash commands: %s", exc)
        return
    for guild_id in guild_ids:
        guild = discord.Object(id=guild_id)
        tree.copy_global_to(guild=guild)
        try:
            synced = await tree.sync(guild=guild)
            log.info("synced %d slash commands to guild %s", len(synced), guild_id)
        except discord.HTTPException as exc:
            log.error(
                "could not sync the slash commands to guild %s (is the bot invited there with the "
                "applications.commands scope?): %s",
                guild_id,
                exc,
            )


def is_platform_admin(interaction: discord.Interaction, admin_role_ids: Sequence[int]) -> bool:
    """Discord's side of "may change the character here": Manage Server (or Administrator) in the guild,
    or one of the configured admin roles. Never true in DMs (the admin core has its own DM rule)."""
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member):
        return False
    permissions = interaction.permissions
    if permissions.administrator or permissions.manage_guild:
        return True
    wanted = set(admin_role_ids)
    return any(role.id in wanted for role in user.roles)
