"""Who a message really pings, from its content, `allowed_mentions` and the author's permissions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .permissions import MENTION_EVERYONE
from .world import Channel, Pings, World

USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class MentionRules:
    parse: frozenset[str]
    users: frozenset[int]
    roles: frozenset[int]
    replied_user: bool

    @classmethod
    def from_payload(cls, allowed: dict[str, Any] | None) -> MentionRules:
        # Without allowed_mentions Discord parses everything and pings the replied-to author.
        if allowed is None:
            return cls(frozenset({"users", "roles", "everyone"}), frozenset(), frozenset(), True)
        return cls(
            parse=frozenset(str(kind) for kind in allowed.get("parse") or []),
            users=frozenset(int(uid) for uid in allowed.get("users") or []),
            roles=frozenset(int(rid) for rid in allowed.get("roles") or []),
            replied_user=bool(allowed.get("replied_user", False)),
        )


def mentioned_in_content(content: str) -> Pings:
    """Every mention written in the text, whether or not it would notify anyone."""
    users = tuple(dict.fromkeys(int(uid) for uid in USER_MENTION.findall(content)))
    roles = tuple(dict.fromkeys(int(rid) for rid in ROLE_MENTION.findall(content)))
    return Pings(users=users, roles=roles, everyone=bool(EVERYONE_MENTION.search(content)))


def compute_pings(
    world: World,
    channel: Channel,
    content: str,
    allowed: dict[str, Any] | None,
    *,
    author_id: int,
    is_webhook: bool = False,
    replied_author_id: int | None = None,
) -> Pings:
    rules = MentionRules.from_payload(allowed)
    written = mentioned_in_content(content)
    guild = world.guild_of(channel)
    # webhooks are not members; Discord lets them mention everyone and any role
    may_mention_all = is_webhook or (
        guild is not None and bool(world.permissions_in(channel, author_id) & MENTION_EVERYONE)
    )

    users = [
        uid
        for uid in written.users
        if uid in world.users and ("users" in rules.parse or uid in rules.users)
    ]
    if replied_author_id is not None and rules.replied_user and replied_author_id not in users:
        users.append(replied_author_id)
    users = [uid for uid in users if uid != author_id]

    roles: list[int] = []
    everyone = False
    if guild is not None:
        for rid in written.roles:
            role = guild.roles.get(rid)
            allowed_role = "roles" in rules.parse or rid in rules.roles
            if role is not None and allowed_role and (role.mentionable or may_mention_all):
                roles.append(rid)
        everyone = written.everyone and "everyone" in rules.parse and may_mention_all
    return Pings(users=tuple(users), roles=tuple(roles), everyone=everyone)
