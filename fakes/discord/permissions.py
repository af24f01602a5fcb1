"""Discord permission bits and the channel permission calculation (roles, then overwrites)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5  # "Manage Server"
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38

ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_DEFAULT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | EMBED_LINKS
    | ATTACH_FILES
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_ROLE_DEFAULT = EVERYONE_DEFAULT | MANAGE_MESSAGES | MENTION_EVERYONE | MANAGE_WEBHOOKS

ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


@dataclass
class Overwrite:
    id: int
    type: int  # ROLE_OVERWRITE or MEMBER_OVERWRITE
    allow: int = 0
    deny: int = 0


def base_permissions(role_permissions: Iterable[int], is_owner: bool) -> int:
    if is_owner:
        return ALL_PERMISSIONS
    value = 0
    for permissions in role_permissions:
        value |= permissions
    return ALL_PERMISSIONS if value & ADMINISTRATOR else value


def apply_overwrites(
    base: int, overwrites: Iterable[Overwrite], guild_id: int, member_id: int, member_role_ids: set[int]
) -> int:
    """Discord's order: @everyone overwrite, then all role overwrites together, then the member's."""
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    overwrites = list(overwrites)
    value = base
    for overwrite in overwrites:
        if overwrite.type == ROLE_OVERWRITE and overwrite.id == guild_id:
            value = (value & ~overwrite.deny) | overwrite.allow
    allow = deny = 0
    for overwrite in overwrites:
        if overwrite.type == ROLE_OVERWRITE and overwrite.id in member_role_ids:
            allow |= overwrite.allow
            deny |= overwrite.deny
    value = (value & ~deny) | allow
    for overwrite in overwrites:
        if overwrite.type == MEMBER_OVERWRITE and overwrite.id == member_id:
            value = (value & ~overwrite.deny) | overwrite.allow
    return value
