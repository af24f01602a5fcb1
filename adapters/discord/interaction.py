"""Slash command answers: acknowledging in time, then the relay's sink over the interaction's messages.

Discord drops an interaction that is not acknowledged within 3 seconds. ``InteractionAck`` answers with
the first text when it is ready within ``defer_after`` seconds, and otherwise defers ("thinking…") at that
moment, whatever the upstream is doing. ``InteractionSink`` then streams the reply by editing the original
response, continues long replies in follow-ups, and falls back to plain channel messages when the
interaction is gone (deadline missed, token expired after 15 minutes).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import discord

from adapters.discord.render import MAX_CONTENT, NO_PINGS, relay_errors

log = logging.getLogger("charbridge.discord")

UNKNOWN_INTERACTION = 10062
INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_WEBHOOK = 10015
_GONE_CODES = frozenset({UNKNOWN_INTERACTION, INVALID_WEBHOOK_TOKEN, UNKNOWN_WEBHOOK})


def interaction_gone(exc: BaseException) -> bool:
    """Discord no longer accepts anything for this interaction (not acknowledged in time, or expired)."""
    return isinstance(exc, discord.HTTPException) and exc.code in _GONE_CODES


class AckState(Enum):
    PENDING = "pending"
    DEFERRED = "deferred"  # the original response shows "thinking…" until edited
    RESPONDED = "responded"  # the original response holds text
    GONE = "gone"


class InteractionAck:
    """Makes sure one interaction is acknowledged before Discord's deadline."""

    def __init__(self, interaction: discord.Interaction, *, defer_after: float, ephemeral: bool = False) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.state = AckState.PENDING
        self.lock = asyncio.Lock()  # the deferral and the first answer never race
        self._defer_after = defer_after
        self._timer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._timer = asyncio.create_task(self._defer_later())

    async def close(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)

    async def __aenter__(self) -> InteractionAck:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _defer_later(self) -> None:
        await asyncio.sleep(self._defer_after)
        async with self.lock:
            if self.state is not AckState.PENDING:
                return
            try:
                await self.interaction.response.defer(thinking=True, ephemeral=self.ephemeral)
                self.state = AckState.DEFERRED
            except discord.InteractionResponded:
                self.state = AckState.RESPONDED
            except discord.HTTPException as exc:
                if interaction_gone(exc):
                    log.warning("interaction %s expired before it could be acknowledged", self.interaction.id)
                    self.state = AckState.GONE
                else:
                    log.warning("deferring interaction %s failed: %s", self.interaction.id, exc)


@dataclass(frozen=True)
class InteractionPost:
    kind: Literal["original", "followup", "channel"]
    prefix: str
    message_id: int | None = None
    message: discord.Message | None = None  # channel fallback messages


class InteractionSink:
    """One reply to a slash command. The first part starts with ``prefix`` (the character's bold name)."""

    def __init__(self, ack: InteractionAck, *, prefix: str = "") -> None:
        self._ack = ack
        self._interaction = ack.interaction
        self._prefix = prefix
        self._original_used = False
        self._sent_any = False

    @property
    def destination(self) -> str:
        return f"discord:interaction:{self._interaction.id}"

    @property
    def max_length(self) -> int:
        return MAX_CONTENT - len(self._prefix)

    async def send(self, text: str, *, final: bool) -> InteractionPost:
        prefix = "" if self._sent_any else self._prefix
        post = await self._post(prefix + text, prefix)
        self._sent_any = True
        return post

    async def _post(self, content: str, prefix: str) -> InteractionPost:
        ack, interaction = self._ack, self._interaction
        async with ack.lock:
            try:
                with relay_errors():
                    if ack.state is AckState.PENDING:
                        await interaction.response.send_message(
                            content, ephemeral=ack.ephemeral, allowed_mentions=NO_PINGS
                        )
                        ack.state = AckState.RESPONDED
                        self._original_used = True
                        return InteractionPost("original", prefix)
                    if ack.state is AckState.DEFERRED and not self._original_used:
                        await interaction.edit_original_response(content=content, allowed_mentions=NO_PINGS)
                        self._original_used = True
                        return InteractionPost("original", prefix)
            except discord.HTTPException as exc:
                if not interaction_gone(exc):
                    raise
                ack.state = AckState.GONE
        if ack.state is not AckState.GONE:
            try:
                with relay_errors():
                    sent = await interaction.followup.send(
                        content, wait=True, ephemeral=ack.ephemeral, allowed_mentions=NO_PINGS
                    )
                return InteractionPost("followup", prefix, message_id=sent.id)
            except discord.HTTPException as exc:
                if not interaction_gone(exc):
                    raise
                ack.state = AckState.GONE
        return await self._post_in_channel(content, prefix)

    async def _post_in_channel(self, content: str, prefix: str) -> InteractionPost:
        channel = self._interaction.channel
        if self._ack.ephemeral or not isinstance(channel, discord.abc.Messageable):
            raise RuntimeError("the interaction is gone and its answer cannot go to the channel")
        log.info("interaction %s is gone; answering in the channel instead", self._interaction.id)
        with relay_errors():
            message = await channel.send(content, allowed_mentions=NO_PINGS)
        return InteractionPost("channel", prefix, message_id=message.id, message=message)

    async def edit(self, handle: InteractionPost, text: str, *, final: bool) -> None:
        content = handle.prefix + text
        with relay_errors():
            if handle.kind == "original":
                await self._interaction.edit_original_response(content=content, allowed_mentions=NO_PINGS)
            elif handle.kind == "followup":
                assert handle.message_id is not None
                await self._interaction.followup.edit_message(
                    handle.message_id, content=content, allowed_mentions=NO_PINGS
                )
            else:
                assert handle.message is not None
                await handle.message.edit(content=content, allowed_mentions=NO_PINGS)

    async def typing(self) -> None:
        """Nothing to do: a deferred interaction shows "thinking…" by itself."""
