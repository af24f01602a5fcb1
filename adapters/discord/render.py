"""How replies appear in Discord channels: the relay's sinks over discord.py.

* ``WebhookSink``: a character speaks under its own name and avatar through the channel's webhook
  (in a thread: the parent channel's webhook, posting with ``thread=``).
* ``ChannelSink``: the bot speaks as itself (DMs, channels without Manage Webhooks), with the character's
  name in bold before the first part.

Every send and edit carries ``AllowedMentions.none()``: character output never pings anyone.

Rate limits: discord.py waits by itself when a bucket's ``X-RateLimit-Remaining`` reaches 0 and sleeps
through (and retries) 429 answers that carry ``retry_after``; the relay's per-destination windows keep
the calls under Discord's limits so that this stays the exception. Discord also caps the webhooks of one
channel together (about 30 per minute, announced by no header until a 429 of scope "shared"); the adapter
relays every webhook reply with the channel as the relay's shared pool, so that cap is paced too. Only a
429 that discord.py hands back (``discord.RateLimited`` when a wait exceeds ``max_ratelimit_timeout``, or an
``HTTPException`` 429 after its own retries) reaches the relay, as ``RateLimited``, which then blocks the
destination for retry_after.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import discord
from discord.utils import MISSING, escape_markdown

from bot.relay import RateLimited

MAX_CONTENT = 2000  # characters in one message's content
MAX_WEBHOOK_NAME = 80
NO_PINGS = discord.AllowedMentions.none()
UNKNOWN_WEBHOOK = 10015
# Discord refuses webhook names containing these words: a zero-width space goes before their last letter. A
# zero-width match, so overlapping words ("discordiscord") are all broken up.
_RESERVED_NAME_PARTS = re.compile(r"(?<=clyd)(?=e)|(?<=discor)(?=d)", re.IGNORECASE)

Speakable = (
    discord.TextChannel
    | discord.Thread
    | discord.DMChannel
    | discord.VoiceChannel
    | discord.StageChannel
    | discord.PartialMessageable
    | discord.GroupChannel
)


@dataclass(frozen=True)
class Persona:
    """How a character appears: its name and avatar (either may be unknown)."""

    name: str | None = None
    avatar_url: str | None = None

    @property
    def bold_name(self) -> str:
        """The line put before the text when the bot speaks for the character as itself (the name cut to what a
        webhook would show, so that even a very long name leaves room for the text)."""
        return f"**{escape_markdown(self.name[:MAX_WEBHOOK_NAME])}**\n" if self.name else ""

    @property
    def webhook_name(self) -> str | None:
        if not self.name or not self.name.strip():
            return None
        name = _RESERVED_NAME_PARTS.sub("\u200b", self.name.strip())
        return name[:MAX_WEBHOOK_NAME]


def as_rate_limited(exc: BaseException) -> RateLimited | None:
    """The relay's RateLimited for a 429 that discord.py handed back instead of retrying, else None."""
    if isinstance(exc, discord.RateLimited):
        return RateLimited(exc.retry_after)
    if isinstance(exc, discord.HTTPException) and exc.status == 429:
        headers = getattr(exc.response, "headers", None) or {}
        return RateLimited(
            _retry_after(headers), is_global=str(headers.get("X-RateLimit-Global", "")).lower() == "true"
        )
    return None


def _retry_after(headers: Any) -> float:
    """discord.py keeps no body of the 429 it raises: the precise reset header, else Retry-After (whole s)."""
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            return float(headers[name])
        except (KeyError, TypeError, ValueError):
            continue
    return 1.0


@contextlib.contextmanager
def relay_errors() -> Iterator[None]:
    """Turn discord.py's rate-limit errors into the relay's; everything else passes through."""
    try:
        yield
    except (discord.RateLimited, discord.HTTPException) as exc:
        limited = as_rate_limited(exc)
        if limited is None:
            raise
        raise limited from exc


@dataclass(frozen=True)
class SentMessage:
    message: discord.Message | discord.PartialMessage  # (partial: found again after a restart)
    prefix: str  # the bold name the first part starts with ("" for the others)


class ChannelSink:
    """One reply from the bot itself into a channel, thread or DM. The first part answers ``reply_to``
    (without pinging its author) and starts with ``prefix``."""

    def __init__(
        self, channel: Speakable, *, prefix: str = "", reply_to: discord.MessageReference | None = None
    ) -> None:
        self._channel = channel
        self._prefix = prefix
        self._reply_to = reply_to
        self._sent_any = False

    @property
    def destination(self) -> str:
        return f"discord:channel:{self._channel.id}"

    @property
    def max_length(self) -> int:
        return MAX_CONTENT - len(self._prefix)

    async def send(self, text: str, *, final: bool) -> SentMessage:
        first = not self._sent_any
        prefix = self._prefix if first else ""
        options: dict[str, Any] = {}
        if first and self._reply_to is not None:
            options.update(reference=self._reply_to, mention_author=False)
        with relay_errors():
            message = await self._channel.send(prefix + text, allowed_mentions=NO_PINGS, **options)
        self._sent_any = True
        return SentMessage(message, prefix)

    async def edit(self, handle: SentMessage, text: str, *, final: bool) -> None:
        with relay_errors():
            await handle.message.edit(content=handle.prefix + text, allowed_mentions=NO_PINGS)

    async def typing(self) -> None:
        with relay_errors():
            await self._channel.typing()


@dataclass(frozen=True)
class WebhookPost:
    webhook: discord.Webhook
    message_id: int


Renew = Callable[[], Awaitable[discord.Webhook | None]]


class WebhookSink:
    """One reply from a character through a channel webhook, under the persona's name and avatar.

    ``renew`` gives a fresh webhook when the one in hand was deleted (Unknown Webhook); the send is then
    retried once through it.
    """

    def __init__(
        self,
        webhook: discord.Webhook,
        persona: Persona,
        *,
        typing_in: Speakable,
        thread: discord.abc.Snowflake | None = None,
        renew: Renew | None = None,
    ) -> None:
        self._webhook = webhook
        self._persona = persona
        self._typing_in = typing_in
        self._thread = thread
        self._renew = renew

    @property
    def destination(self) -> str:
        return f"discord:webhook:{self._webhook.id}"

    @property
    def max_length(self) -> int:
        return MAX_CONTENT

    async def send(self, text: str, *, final: bool) -> WebhookPost:
        try:
            return await self._execute(text)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_WEBHOOK or self._renew is None:
                raise
            fresh = await self._renew()
            if fresh is None:
                raise
            self._webhook = fresh
            return await self._execute(text)

    async def _execute(self, text: str) -> WebhookPost:
        persona = self._persona
        with relay_errors():
            message = await self._webhook.send(
                text,
                username=persona.webhook_name or MISSING,
                avatar_url=persona.avatar_url or MISSING,
                allowed_mentions=NO_PINGS,
                thread=self._thread or MISSING,
                wait=True,
            )
        return WebhookPost(self._webhook, message.id)

    async def edit(self, handle: WebhookPost, text: str, *, final: bool) -> None:
        with relay_errors():
            await handle.webhook.edit_message(
                handle.message_id, content=text, allowed_mentions=NO_PINGS, thread=self._thread or MISSING
            )

    async def typing(self) -> None:
        with relay_errors():
            await self._typing_in.typing()
