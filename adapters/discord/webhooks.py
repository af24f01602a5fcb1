"""One webhook per channel for the characters: found by name (or created on demand), then reused.

Discord allows at most 15 webhooks per channel and creating one needs Manage Webhooks, so the pool
looks for its own webhook first, creates one only when there is none, and reports why it has none
(``Unavailable``) so the adapter can fall back to the bot's own voice and tell an admin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from enum import Enum

import discord

log = logging.getLogger("charbridge.discord")

WEBHOOK_NAME = "charbridge"
TOO_MANY_WEBHOOKS = 30007
MISSING_PERMISSIONS = 50013

WebhookParent = discord.TextChannel | discord.ForumChannel | discord.VoiceChannel | discord.StageChannel


class Unavailable(Enum):
    """Why a channel has no character webhook."""

    MISSING_PERMISSION = "missing_permission"  # the bot lacks Manage Webhooks there
    LIMIT_REACHED = "limit_reached"  # the channel already has the 15 webhooks Discord allows
    FAILED = "failed"  # anything else (logged)


def webhook_parent(channel: object) -> WebhookParent | None:
    """The channel that owns the webhook for messages in ``channel`` (a thread's parent), if any."""
    if isinstance(channel, discord.Thread):
        channel = channel.parent
    if isinstance(channel, discord.TextChannel | discord.ForumChannel | discord.VoiceChannel | discord.StageChannel):
        return channel
    return None


class WebhookPool:
    """Webhooks by channel id. ``ids`` holds every webhook id of ours seen (to recognise our characters'
    messages); a failed look-up is not repeated for ``retry_after`` seconds."""

    def __init__(self, *, name: str = WEBHOOK_NAME, retry_after: float = 300.0) -> None:
        self.name = name
        self.ids: set[int] = set()
        self._retry_after = retry_after
        self._hooks: dict[int, discord.Webhook] = {}
        self._failures: dict[int, tuple[float, Unavailable]] = {}
        self._looked_up: set[int] = set()
        self._locks: dict[int, asyncio.Lock] = {}

    @staticmethod
    def can_manage(parent: WebhookParent) -> bool:
        return parent.permissions_for(parent.guild.me).manage_webhooks

    async def get(self, parent: WebhookParent) -> discord.Webhook | Unavailable:
        """The channel's character webhook, found or created."""
        if not self.can_manage(parent):
            return Unavailable.MISSING_PERMISSION
        hook = self._hooks.get(parent.id)
        if hook is not None:
            return hook
        failure = self._failures.get(parent.id)
        if failure is not None and time.monotonic() < failure[0] + self._retry_after:
            return failure[1]
        async with self._locks.setdefault(parent.id, asyncio.Lock()):
            hook = self._hooks.get(parent.id)
            if hook is not None:
                return hook
            return await self._find_or_create(parent, create=True)

    async def learn(self, parent: WebhookParent) -> None:
        """Look the channel's webhook up once without creating one, so messages of our characters from
        before a restart are recognised."""
        if parent.id in self._looked_up or parent.id in self._hooks or not self.can_manage(parent):
            return
        self._looked_up.add(parent.id)
        async with self._locks.setdefault(parent.id, asyncio.Lock()):
            await self._find_or_create(parent, create=False)

    async def renew(self, parent: WebhookParent) -> discord.Webhook | None:
        """Forget the channel's webhook (it was deleted) and find or create another."""
        self._hooks.pop(parent.id, None)
        self._failures.pop(parent.id, None)
        found = await self.get(parent)
        return found if isinstance(found, discord.Webhook) else None

    def forget(self, channel_id: int) -> None:
        self._hooks.pop(channel_id, None)
        self._failures.pop(channel_id, None)
        self._looked_up.discard(channel_id)

    async def _find_or_create(self, parent: WebhookParent, *, create: bool) -> discord.Webhook | Unavailable:
        try:
            hook = self._pick(await parent.webhooks(), parent.guild.me.id)
            if hook is None and create:
                hook = await parent.create_webhook(name=self.name, reason="charbridge: characters speak here")
                log.info("created the character webhook in #%s (%s)", parent.name, parent.id)
        except discord.Forbidden:
            return self._failed(parent, Unavailable.MISSING_PERMISSION)
        except discord.HTTPException as exc:
            if exc.code == TOO_MANY_WEBHOOKS:
                return self._failed(parent, Unavailable.LIMIT_REACHED)
            log.warning("no character webhook in #%s (%s): %s", parent.name, parent.id, exc)
            return self._failed(parent, Unavailable.FAILED)
        if hook is None:
            return Unavailable.FAILED
        self._hooks[parent.id] = hook
        self._failures.pop(parent.id, None)
        self.ids.add(hook.id)
        return hook

    def _pick(self, hooks: list[discord.Webhook], my_id: int) -> discord.Webhook | None:
        """Ours: the webhook with our name that we can execute, preferably one the bot created."""
        usable = [h for h in hooks if h.name == self.name and h.token and h.type is discord.WebhookType.incoming]
        mine = [h for h in usable if h.user is not None and h.user.id == my_id]
        for hook in usable:
            if hook.user is not None and hook.user.id == my_id:
                self.ids.add(hook.id)
        candidates = mine or usable
        return candidates[0] if candidates else None

    def _failed(self, parent: WebhookParent, reason: Unavailable) -> Unavailable:
        self._failures[parent.id] = (time.monotonic(), reason)
        return reason
