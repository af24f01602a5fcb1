"""Platform-agnostic admin commands for presets and bindings (``/preset ...``, ``/character``)."""

from bot.admin.commands import AdminCommands
from bot.admin.parse import USAGE, AdminCommand, CommandError, parse
from bot.admin.results import AdminResult

__all__ = ["USAGE", "AdminCommand", "AdminCommands", "AdminResult", "CommandError", "parse"]
