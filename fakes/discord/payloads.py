"""JSON shapes of Discord objects, built from the world (minimal sets discord.py 2.7 accepts)."""

from __future__ import annotations

import hashlib
from typing import Any

from .ids import iso
from .world import DM_CHANNEL, PUBLIC_THREAD, Channel, Guild, Member, Role, StoredMessage, User, Webhook, World

JSON = dict[str, Any]


def user_payload(user: User) -> JSON:
    payload: JSON = {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": user.avatar,
        "public_flags": 0,
    }
    if user.bot:
        payload["bot"] = True
    return payload


def role_payload(role: Role) -> JSON:
    return {
        "id": str(role.id),
        "name": role.name,
        "permissions": str(role.permissions),
        "position": role.position,
        "color": 0,
        "hoist": False,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }


def member_payload(world: World, member: Member, *, with_user: bool = True) -> JSON:
    payload: JSON = {
        "roles": [str(rid) for rid in member.role_ids],
        "joined_at": iso(member.joined_at),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": member.nick,
    }
    if with_user:
        payload["user"] = user_payload(world.users[member.user_id])
    return payload


def channel_payload(world: World, channel: Channel) -> JSON:
    payload: JSON = {"id": str(channel.id), "type": channel.type, "last_message_id": _last_id(channel)}
    if channel.type == DM_CHANNEL:
        assert channel.recipient_id is not None
        payload["recipients"] = [user_payload(world.users[channel.recipient_id])]
        payload["flags"] = 0
        return payload
    payload.update(
        {
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
    )
    if channel.type == PUBLIC_THREAD:
        payload.update(
            {
                "parent_id": str(channel.parent_id),
                "owner_id": str(channel.owner_id),
                "message_count": len(channel.message_ids),
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(world.guilds[channel.guild_id or 0].joined_at),
                    "locked": False,
                },
            }
        )
        return payload
    payload.update(
        {
            "parent_id": None,
            "topic": channel.topic,
            "permission_overwrites": [
                {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
                for o in channel.overwrites
            ],
        }
    )
    return payload


def guild_create_payload(world: World, guild: Guild) -> JSON:
    channels = [world.channels[cid] for cid in guild.channel_ids]
    threads = [c for c in world.channels.values() if c.guild_id == guild.id and c.type == PUBLIC_THREAD]
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "owner_id": str(guild.owner_id),
        "unavailable": False,
        "member_count": len(guild.members),
        "large": False,
        "joined_at": iso(guild.joined_at),
        "roles": [role_payload(role) for role in guild.roles.values()],
        "channels": [channel_payload(world, channel) for channel in channels],
        "threads": [channel_payload(world, thread) for thread in threads],
        "members": [member_payload(world, member) for member in guild.members.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_flags": 0,
    }


def avatar_hash(url: str | None) -> str | None:
    return None if url is None else hashlib.md5(url.encode()).hexdigest()


def message_author(world: World, message: StoredMessage) -> JSON:
    if message.webhook_id is not None and message.interaction_id is None:
        webhook = world.webhooks.get(message.webhook_id)
        name = message.username_override or (webhook.name if webhook else "webhook")
        avatar = avatar_hash(message.avatar_url_override) or (webhook.avatar if webhook else None)
        return {
            "id": str(message.webhook_id),
            "username": name,
            "discriminator": "0000",
            "avatar": avatar,
            "bot": True,
            "global_name": None,
            "public_flags": 0,
        }
    return user_payload(world.users[message.author_id])


def message_payload(world: World, message: StoredMessage, *, with_reference: bool = True) -> JSON:
    latest = message.versions[-1] if message.versions else None
    payload: JSON = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": message_author(world, message),
        "content": message.content,
        "timestamp": iso(message.created_at),
        "edited_timestamp": iso(message.edited_at) if message.edited_at else None,
        "tts": message.tts,
        "mention_everyone": message.mentions.everyone,
        "mentions": [user_payload(world.users[uid]) for uid in message.mentions.users],
        "mention_roles": [str(rid) for rid in message.mentions.roles],
        "attachments": message.attachments,
        "embeds": latest.embeds if latest else message.embeds,
        "components": [],
        "pinned": False,
        "type": message.type,
        "flags": message.flags,
    }
    if message.guild_id is not None:
        payload["guild_id"] = str(message.guild_id)
        guild = world.guilds[message.guild_id]
        member = guild.members.get(message.author_id)
        if member is not None and message.webhook_id is None:
            payload["member"] = member_payload(world, member, with_user=False)
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    if message.interaction_id is not None:
        payload["application_id"] = str(message.webhook_id)
    if message.nonce is not None:
        payload["nonce"] = message.nonce
    if message.reply_to is not None:
        payload["message_reference"] = {
            "type": 0,
            "message_id": str(message.reply_to),
            "channel_id": str(message.channel_id),
        }
        if message.guild_id is not None:
            payload["message_reference"]["guild_id"] = str(message.guild_id)
        referenced = world.messages.get(message.reply_to)
        if with_reference and referenced is not None and not referenced.deleted:
            payload["referenced_message"] = message_payload(world, referenced, with_reference=False)
    return payload


def webhook_payload(world: World, webhook: Webhook, *, with_token: bool = True) -> JSON:
    payload: JSON = {
        "id": str(webhook.id),
        "type": 1,
        "channel_id": str(webhook.channel_id),
        "guild_id": str(webhook.guild_id),
        "name": webhook.name,
        "avatar": webhook.avatar,
        "application_id": str(webhook.application_id) if webhook.application_id else None,
        "user": user_payload(world.users[webhook.creator_id]),
    }
    if with_token:
        payload["token"] = webhook.token
    return payload


def _last_id(channel: Channel) -> str | None:
    return str(channel.message_ids[-1]) if channel.message_ids else None
