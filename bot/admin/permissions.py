"""Who may run which admin command.

The platform check (Discord's Manage Server or a configured admin role, Telegram's chat administrators) is
the adapter's job; it arrives here as ``platform_admin``. This module combines it with the bot owners from the
config and the DM rule:

- everyone: ``/preset list``, ``/preset show``, help;
- the conversation's admins (owners, platform admins, and the user of a DM for that DM): ``/preset use``,
  ``/preset unbind``, ``/character``, ``/preset history`` of this conversation;
- preset editors (owners and platform admins, not plain DM users): ``/preset create``, ``set``, ``delete``;
  a platform admin may change or delete only a preset no other server/chat uses (and never the default one);
- resuming an upstream chat by id (``/preset use <name> <chat_id>``): owners and platform admins, not plain
  DM users (a chat id may belong to somebody else's conversation);
- owners only: ``/preset history all``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum

from bot.models import ChatRequest


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"  # the platform says so (Manage Server, admin role, chat administrator)
    DM_USER = "dm_user"  # the other party of a DM: admin of that DM only
    MEMBER = "member"


class Access(IntEnum):
    """What a command needs; higher needs more."""

    PUBLIC = 0
    CONVERSATION = 1
    EDIT_PRESETS = 2
    OWNER = 3


_GRANTS: dict[Role, Access] = {
    Role.OWNER: Access.OWNER,
    Role.ADMIN: Access.EDIT_PRESETS,
    Role.DM_USER: Access.CONVERSATION,
    Role.MEMBER: Access.PUBLIC,
}

REFUSALS: dict[Access, str] = {
    Access.PUBLIC: "",
    Access.CONVERSATION: "Only this chat's admins or a bot owner can change which character answers here.",
    Access.EDIT_PRESETS: "Only chat admins or a bot owner can create, change or delete presets.",
    Access.OWNER: "Only a bot owner can do that.",
}


def role_of(request: ChatRequest, platform_admin: bool, owners: Iterable[str]) -> Role:
    if request.user_id in set(owners):
        return Role.OWNER
    if platform_admin:
        return Role.ADMIN
    if request.is_dm:
        return Role.DM_USER
    return Role.MEMBER


def may(role: Role, needed: Access) -> bool:
    return _GRANTS[role] >= needed


def community_of(conversation: str) -> str:
    """How far a platform admin's authority reaches: a whole Discord server (Manage Server and admin roles
    are per server), otherwise the one chat (Telegram administrators are per chat; topics belong to it)."""
    base = conversation.split("/", 1)[0]
    parts = base.split(":")
    if len(parts) == 3 and parts[0] == "discord" and parts[1] != "dm":
        return f"discord:{parts[1]}"
    return base
