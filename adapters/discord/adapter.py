"""The Discord adapter: discord.py wiring, triggers, slash commands, and streamed replies through the relay.

A message is answered when it is a DM, mentions the bot, replies to the bot or to one of its characters,
or when the channel's preset answers everything. Characters speak through the channel's webhook under
their own name and avatar; where that is impossible (DMs, no Manage Webhooks) the bot speaks as itself
with the character's name in bold, and tells the channel's admins once what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Literal

import discord

from adapters.discord.admin_commands import admin_commands
from adapters.discord.client import BridgeClient, Endpoints
from adapters.discord.commands import (
    EPHEMERAL_COMMANDS,
    AnyCommand,
    chat_commands,
    is_platform_admin,
    sync_commands,
)
from adapters.discord.interaction import InteractionAck, InteractionSink
from adapters.discord.normalize import BotIdentity, command_name, normalize_interaction, normalize_message
from adapters.discord.npc import DiscordNpc
from adapters.discord.persona import PersonaBook
from adapters.discord.render import ChannelSink, Persona, Speakable, WebhookSink
from adapters.discord.webhooks import Unavailable, WebhookParent, WebhookPool, webhook_parent
from bot.admin import AdminCommands
from bot.app import StartupError
from bot.models import ChatRequest, ReplyEvent, ReplyFinal
from bot.relay import Budgets, PacingPolicy, RelayResult, ReplySink, error_notice, relay_reply
from bot.service import INTERNAL, ChatService
from config.settings import Settings

log = logging.getLogger("charbridge.discord")

PolicyKind = Literal["channel", "webhook"]
CommandAnswer = Callable[[ChatRequest, InteractionAck], Awaitable[None]]

NOTICE_TTL = 7 * 86400.0  # an admin notice is repeated at most once a week per channel
ADMIN_NOTICES: dict[Unavailable, str] = {
    Unavailable.MISSING_PERMISSION: (
        "ℹ️ For admins: I need the **Manage Webhooks** permission in this channel so that characters can "
        "speak under their own name and avatar. Until then I answer as myself, with the character's name "
        "in bold."
    ),
    Unavailable.LIMIT_REACHED: (
        "ℹ️ For admins: this channel already has the 15 webhooks Discord allows, so characters cannot "
        "speak under their own name and avatar here. Delete an unused one (Edit Channel → Integrations → "
        "Webhooks) and they will. Until then I answer as myself."
    ),
}
NO_TEXT = "✏️ Your message has no text for the character to answer (only text is passed on)."
PRIVILEGED_INTENTS = (
    "Discord refused the Message Content intent: enable 'Message Content Intent' for the bot in the "
    "developer portal (Applications → your app → Bot → Privileged Gateway Intents)"
)


async def _once(text: str) -> AsyncIterator[ReplyEvent]:
    yield ReplyFinal(text=text)


class DiscordAdapter:
    name = "discord"

    def __init__(
        self,
        settings: Settings,
        service: ChatService,
        admin: AdminCommands | None = None,
        *,
        client_options: Mapping[str, Any] | None = None,
        ready_timeout: float = 30.0,
        shutdown_grace: float = 10.0,
    ) -> None:
        """``admin`` is kept for the admin slash commands (registered through ``add_command``);
        ``client_options`` go to ``discord.Client`` (e.g. ``guild_ready_timeout``, ``heartbeat_timeout``,
        ``max_ratelimit_timeout``); ``start`` waits up to ``ready_timeout`` s for the gateway's READY."""
        config = settings.discord
        assert config.token is not None, "the Discord adapter needs a token"
        self._config = config
        self._service = service
        self.admin = admin
        self._ready_timeout = ready_timeout
        self._shutdown_grace = shutdown_grace
        self._endpoints = Endpoints(config.api_base, config.gateway_url)
        options = {"guild_ready_timeout": config.guild_ready_timeout, **(client_options or {})}
        self._client = BridgeClient(on_message=self._on_message, on_setup=self._on_setup, **options)
        self._answers: dict[str, CommandAnswer] = {
            "chat": self._chat,
            "reset": self._reset,
            "regenerate": self._regenerate,
            "status": self._status,
        }
        for command in chat_commands(self._on_command):
            self._client.tree.add_command(command)
        # Casts of characters (NPC presets): each member through the webhook under its own name and avatar.
        self._npc = DiscordNpc(service, self, self.request_for, lambda: self._config.interaction_defer_after)
        self._client.tree.add_command(self._npc.command())
        if admin is not None:
            for command in admin_commands(self, admin):
                self._client.tree.add_command(command)
        self._policies: dict[PolicyKind, PacingPolicy] = {
            "channel": PacingPolicy.discord_channel().with_overrides(config.pacing.get("channel", {})),
            "webhook": PacingPolicy.discord_webhook().with_overrides(config.pacing.get("webhook", {})),
        }
        self._budgets = Budgets.for_policy(self._policies["channel"])
        self._webhooks = WebhookPool()
        self._personas = PersonaBook(service)
        self._identity = BotIdentity(id=0, webhook_ids=self._webhooks.ids)
        self._runner: asyncio.Task[None] | None = None
        self._replies: set[asyncio.Task[Any]] = set()

    # --- the hook for more commands (the admin commands plug in here) --------------------------------
    @property
    def client(self) -> discord.Client:
        return self._client

    def add_command(self, command: AnyCommand) -> None:
        """Register another slash command or group; call before ``start`` (commands sync at start)."""
        self._client.tree.add_command(command)

    def request_for(self, interaction: discord.Interaction) -> ChatRequest | None:
        """The ChatRequest of a slash command (conversation, user, text of its options)."""
        return normalize_interaction(interaction, self._identity)

    def is_platform_admin(self, interaction: discord.Interaction) -> bool:
        return is_platform_admin(interaction, self._config.admin_role_ids)

    async def answer(self, interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
        """Answer a slash command with a text, acknowledged in time and split at Discord's limit."""
        defer_after = self._config.interaction_defer_after
        async with InteractionAck(interaction, defer_after=defer_after, ephemeral=ephemeral) as ack:
            await self._answer_text(ack, text)

    async def speak(self, request: ChatRequest, text: str) -> None:
        """Post ``text`` where ``request`` was written, as the conversation's character (through the
        channel's webhook when possible), e.g. a greeting after an admin changed the character."""
        target = request.target
        channel = self._client.get_channel(int(target.thread or target.chat))
        if channel is None:
            channel = await self._client.fetch_channel(int(target.thread or target.chat))
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("cannot post in %s: not a text channel", request.conversation_key)
            return
        await self._speak_in(channel, request, _once(text), reply_to=None)

    # --- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        assert self._config.token is not None
        self._endpoints.apply()
        try:
            await self._client.login(self._config.token.get_secret_value())  # runs setup_hook: command sync
        except discord.LoginFailure:
            await self._abort()
            raise StartupError("Discord rejected the bot token (CHARBRIDGE_DISCORD__TOKEN)") from None
        except (discord.HTTPException, OSError) as exc:
            await self._abort()
            raise StartupError(f"Discord could not be reached: {exc}") from None
        user = self._client.user
        assert user is not None
        self._identity = BotIdentity(id=user.id, webhook_ids=self._webhooks.ids)
        self._runner = asyncio.create_task(self._client.connect(reconnect=True))
        ready = asyncio.create_task(self._client.wait_until_ready())
        await asyncio.wait({ready, self._runner}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._runner.done():
            ready.cancel()
            failure = self._runner.exception()
            await self._abort()
            if isinstance(failure, discord.PrivilegedIntentsRequired):
                raise StartupError(PRIVILEGED_INTENTS)
            raise StartupError(f"the Discord gateway connection failed: {failure}")
        if not ready.done():
            ready.cancel()
            log.warning("Discord is not ready after %.0f s; still connecting in the background", self._ready_timeout)
        log.info("Discord bot %s (%s) is running", user.name, user.id)

    async def stop(self) -> None:
        if self._replies:
            await asyncio.wait(set(self._replies), timeout=self._shutdown_grace)
        await self._abort()

    async def wait_until_ready(self) -> None:
        await self._client.wait_until_ready()

    async def _abort(self) -> None:
        await self._client.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        self._endpoints.restore()

    async def _on_setup(self) -> None:
        await sync_commands(self._client.tree, self._config.guild_ids)

    # --- messages --------------------------------------------------------------------------------------
    async def _on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None:
            return  # never our own messages or our characters' (nor other bots': no reply loops)
        ticket = self._npc.arrive(message)  # before any await: keeps the channel's arrival order
        try:
            await self._learn_replied_webhook(message)
            request = normalize_message(message, self._identity)
            if request is None:
                return
            if not request.text:  # nothing to pass on (an image, only a mention, zero-width characters)
                await self._nothing_to_answer(message, request)
                return
            if await self._service.npc.applies(request):
                if await self._service.first_delivery(request):
                    await self._npc.answer_message(message, request, ticket)
                return
            if not await self._service.should_answer(request) or not await self._service.first_delivery(request):
                return
            await self._answer_message(message, request)
        except Exception:
            log.exception("handling Discord message %s failed", message.id)
        finally:
            ticket.release()

    async def _nothing_to_answer(self, message: discord.Message, request: ChatRequest) -> None:
        """Say so when a message for the bot has no text; chatter in an answer-everything channel is ignored."""
        addressed = request.is_dm or request.mentions_bot or request.reply_to_bot
        if addressed and await self._service.first_delivery(request):
            reference = None if request.is_dm else message.to_reference(fail_if_not_exists=False)
            await self.say_in(message.channel, NO_TEXT, reference)

    async def _learn_replied_webhook(self, message: discord.Message) -> None:
        """A reply to a webhook message we do not know may answer a character of ours from before a
        restart: look the channel's webhook up (once) before deciding."""
        replied = message.reference.resolved if message.reference is not None else None
        if not isinstance(replied, discord.Message) or replied.webhook_id is None:
            return
        parent = webhook_parent(message.channel)
        if replied.webhook_id not in self._webhooks.ids and parent is not None:
            await self._webhooks.learn(parent)

    async def _answer_message(self, message: discord.Message, request: ChatRequest) -> None:
        reference = None if request.is_dm else message.to_reference(fail_if_not_exists=False)
        await self._speak_in(message.channel, request, self._service.reply(request), reply_to=reference)

    async def _speak_in(
        self,
        channel: Speakable,
        request: ChatRequest,
        events: AsyncIterator[ReplyEvent],
        *,
        reply_to: discord.MessageReference | None,
        persona: Persona | None = None,
    ) -> RelayResult[Any]:
        """Relay a reply into a channel as the conversation's character (or ``persona``): through the
        channel's webhook, else as the bot with the character's name in bold (then telling the admins what
        is missing)."""
        if persona is None:
            persona = await self._personas.for_request(request)
        sink: ReplySink[Any] = ChannelSink(channel, reply_to=reply_to)
        kind: PolicyKind = "channel"
        shared: str | None = None  # the channel whose webhooks share Discord's per-channel cap
        problem: tuple[WebhookParent, Unavailable] | None = None
        if persona is not None:
            sink = ChannelSink(channel, prefix=persona.bold_name, reply_to=reply_to)
            parent = None if request.is_dm else webhook_parent(channel)
            if parent is not None:
                found = await self._webhooks.get(parent)
                if isinstance(found, discord.Webhook):
                    sink, kind = self._webhook_sink(found, persona, channel, parent), "webhook"
                    shared = f"discord:channel-webhooks:{parent.id}"
                else:
                    problem = (parent, found)
        result = await self._relay(events, sink, await self._policy(request, kind), shared=shared)
        if problem is not None:
            await self._tell_admins(channel, *problem)
        return result

    # --- the voices NPCs speak with (adapters.discord.npc.Voices) ---------------------------------------
    async def speak_as(
        self,
        channel: Speakable,
        request: ChatRequest,
        events: AsyncIterator[ReplyEvent],
        persona: Persona,
        reply_to: discord.MessageReference | None,
    ) -> list[Any]:
        return (await self._speak_in(channel, request, events, reply_to=reply_to, persona=persona)).handles

    async def say_in(self, channel: Speakable, text: str, reply_to: discord.MessageReference | None) -> None:
        await self._relay(_once(text), ChannelSink(channel, reply_to=reply_to), self._policies["channel"])

    async def answer_ack(self, ack: InteractionAck, text: str) -> None:
        await self._answer_text(ack, text)

    def _webhook_sink(
        self, webhook: discord.Webhook, persona: Persona, channel: Speakable, parent: WebhookParent
    ) -> WebhookSink:
        thread = channel if isinstance(channel, discord.Thread) else None

        async def renew() -> discord.Webhook | None:
            return await self._webhooks.renew(parent)

        return WebhookSink(webhook, persona, typing_in=channel, thread=thread, renew=renew)

    async def _tell_admins(self, channel: Speakable, parent: WebhookParent, reason: Unavailable) -> None:
        notice = ADMIN_NOTICES.get(reason)
        if notice is None:
            return
        log.warning("no character webhook in #%s (%s): %s", parent.name, parent.id, reason.value)
        if await self._service.store.mark_once(f"discord:notice:{reason.value}:{parent.id}", NOTICE_TTL):
            await self._relay(_once(notice), ChannelSink(channel), self._policies["channel"])

    # --- slash commands --------------------------------------------------------------------------------
    async def _on_command(self, interaction: discord.Interaction) -> None:
        name = command_name(interaction) or ""
        answer = self._answers.get(name)
        if answer is None:
            return
        defer_after = self._config.interaction_defer_after
        async with InteractionAck(interaction, defer_after=defer_after, ephemeral=name in EPHEMERAL_COMMANDS) as ack:
            request = normalize_interaction(interaction, self._identity)
            if request is None or not await self._service.first_delivery(request):
                return
            try:
                await answer(request, ack)
            except Exception:
                log.exception("slash command /%s failed", name)
                await self._answer_text(ack, error_notice(INTERNAL))

    async def _chat(self, request: ChatRequest, ack: InteractionAck) -> None:
        if not request.text:
            await self._answer_text(ack, "Usage: /chat message:<what you say to the character>")
            return
        channel = ack.interaction.channel
        if isinstance(channel, Speakable) and await self._service.npc.applies(request):
            shown = f"💬 **{discord.utils.escape_markdown(request.user_name)}**: {request.text}"
            await self._npc.answer_command(channel, request, ack, shown)
            return
        await self._stream_to_interaction(request, ack, self._service.reply(request))

    async def _regenerate(self, request: ChatRequest, ack: InteractionAck) -> None:
        await self._stream_to_interaction(request, ack, self._service.regenerate(request))

    async def _reset(self, request: ChatRequest, ack: InteractionAck) -> None:
        result = await self._service.reset(request)
        if not isinstance(result, ReplyFinal):
            await self._answer_text(ack, error_notice(result))
            return
        persona = await self._personas.for_request(request)
        speaker = persona.bold_name if persona is not None else ""
        await self._answer_text(ack, f"New conversation started.\n\n{speaker}{result.text}")

    async def _status(self, request: ChatRequest, ack: InteractionAck) -> None:
        await self._answer_text(ack, (await self._service.status(request)).describe())

    async def _stream_to_interaction(
        self, request: ChatRequest, ack: InteractionAck, events: AsyncIterator[ReplyEvent]
    ) -> None:
        persona = await self._personas.for_request(request)
        sink = InteractionSink(ack, prefix=persona.bold_name if persona is not None else "")
        await self._relay(events, sink, await self._policy(request, "webhook"))

    async def _answer_text(self, ack: InteractionAck, text: str) -> None:
        await self._relay(_once(text), InteractionSink(ack), self._policies["webhook"])

    # --- relaying --------------------------------------------------------------------------------------
    async def _policy(self, request: ChatRequest, kind: PolicyKind) -> PacingPolicy:
        return await self._service.pacing(request, self._policies[kind])

    async def _relay(
        self, events: AsyncIterator[ReplyEvent], sink: ReplySink[Any], policy: PacingPolicy, shared: str | None = None
    ) -> RelayResult[Any]:
        with self._tracked():
            result = await relay_reply(events, sink, policy, self._budgets, shared=shared)
        if not result.delivered:
            log.warning("a reply into %s was not fully delivered", sink.destination)
        return result

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Remember the running reply so that ``stop`` can let it finish."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._replies.add(task)
        try:
            yield
        finally:
            self._replies.discard(task)
