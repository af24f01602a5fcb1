"""The Telegram adapter: python-telegram-bot wiring, command dispatch, and streamed replies through the relay."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import partial
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from adapters.telegram.admins import ChatAdmins
from adapters.telegram.normalize import BotIdentity, message_key, normalize_message
from adapters.telegram.render import TelegramReplySink
from bot.door import Door
from bot.journal import Place, Reopened
from bot.models import ChatRequest, ReplyEvent, ReplyFinal, ReplyRecord, ReplyTarget
from bot.npc import NpcNotice
from bot.plans import Cast, Plan, Say, Stream
from bot.relay import Budgets, PacingPolicy, relay_reply
from config.settings import Settings

log = logging.getLogger("charbridge.telegram")

COMMANDS = [
    BotCommand("start", "Meet the character (its greeting)"),
    BotCommand("chat", "Talk to the character: /chat <message>"),
    BotCommand("reset", "Start a new conversation with the character"),
    BotCommand("regenerate", "Another answer to the last message"),
    BotCommand("status", "Which character answers here"),
    BotCommand("help", "How to talk to the character"),
    BotCommand("preset", "Admins: choose the character here (/preset list, /preset use <name>, ...)"),
    BotCommand("character", "Admins: bind a character by its id"),
    BotCommand("npc", "Where several characters are cast: /npc <name> <message>"),
]
ALLOWED_UPDATES = ["message", "edited_message"]
UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE


class TelegramAdapter:
    name = "telegram"

    def __init__(self, settings: Settings, door: Door) -> None:
        config = settings.telegram
        assert config.token is not None, "the Telegram adapter needs a token"
        self._settings = settings
        self._door = door
        self._app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(config.token.get_secret_value())
            .base_url(config.base_url)
            .base_file_url(config.base_file_url)
            .concurrent_updates(True)
            .build()
        )
        # Every message and edit goes to the normaliser and the core's door, which decide what is answered.
        self._app.add_handler(MessageHandler(UPDATES, self._on_update))
        self._policies = {
            "private": PacingPolicy.telegram_private().with_overrides(config.pacing.get("private", {})),
            "group": PacingPolicy.telegram_group().with_overrides(config.pacing.get("group", {})),
        }
        self._budgets = Budgets.for_policy(self._policies["group"])
        self._me = BotIdentity(id=0, username="")
        self._chat_admins = ChatAdmins(self._app.bot, config.admin_cache_seconds)
        self._recovery: asyncio.Task[int] | None = None

    async def start(self) -> None:
        await self._app.initialize()  # getMe: fails fast on a bad token
        bot = self._app.bot
        self._me = BotIdentity(id=bot.id, username=bot.username)
        await bot.set_my_commands(COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(COMMANDS, scope=BotCommandScopeAllGroupChats())
        await self._app.start()
        updater = self._app.updater
        assert updater is not None
        config = self._settings.telegram
        if config.mode == "webhook":
            assert config.webhook_url is not None
            secret = config.webhook_secret.get_secret_value() if config.webhook_secret else None
            # Behind a reverse proxy the public URL's path is the path Telegram posts to, so listen on it.
            await updater.start_webhook(
                listen=config.webhook_listen, port=config.webhook_port, webhook_url=config.webhook_url,
                url_path=urlsplit(config.webhook_url).path.lstrip("/"), secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
            )  # fmt: skip
        else:
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        log.info("Telegram bot @%s is running (%s)", self._me.username, config.mode)
        self._recovery = asyncio.create_task(self._door.recover(self))  # replies a crash cut short

    async def stop(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()

    @property
    def bot_username(self) -> str:
        return self._me.username

    @property
    def owner(self) -> str:
        """Whose replies these are in the reply journal: this bot's."""
        return f"telegram:{self._me.id}"

    async def reopen(self, record: ReplyRecord) -> Reopened[int]:
        """Write into the chat of an interrupted reply again (its messages are Telegram message ids)."""
        policy = self._policies["private" if record.render.get("policy") == "private" else "group"]
        return Reopened(self._sink_at(record.target), decode=int, encode=str, policy=policy, budgets=self._budgets)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        request = normalize_message(message, self._me)
        if request is None:
            return
        ticket = self._door.arrive(request.conversation_id)  # before any await: keeps the chat's arrival order
        try:
            plan = await self._door.handle(request, ticket, is_admin=partial(self._is_chat_admin, request))
            await self._render(request, plan)
        except Exception:
            log.exception("handling Telegram message %s failed", request.message_id)
        finally:
            ticket.release()

    async def _render(self, request: ChatRequest, plan: Plan) -> None:
        policy = plan.policy(self._policies["private" if request.is_dm else "group"])
        match plan:
            case Say():
                await self._say(request, plan.together, policy)
                if plan.greeting is not None and plan.greeting_apart:
                    await self._say(request, plan.greeting, policy)
            case Stream():
                await self._stream(request, plan, policy)
            case Cast():
                await self._cast(request, plan, policy)
            case _:
                return

    async def _cast(self, request: ChatRequest, plan: Cast, policy: PacingPolicy) -> None:
        """The cast's answer: each NPC reply under its bold name, remembered so replies to it reach it."""
        chat = int(request.target.chat)
        async for item in plan.items:
            if isinstance(item, NpcNotice):
                await self._say(request, item.text, policy)
                continue
            sink = self._sink(request, speaker=item.speaker.name, quote=not item.scene)
            result = await relay_reply(item.events, sink, policy, self._budgets)
            await plan.remember(item.speaker, [message_key(chat, handle) for handle in result.handles])

    async def _is_chat_admin(self, request: ChatRequest) -> bool:
        user_id = int(request.user_id.removeprefix("telegram:"))
        return await self._chat_admins.is_admin(int(request.target.chat), user_id)

    def _sink(self, request: ChatRequest, speaker: str | None = None, quote: bool = True) -> TelegramReplySink:
        return self._sink_at(request.target, speaker, quote)

    def _sink_at(self, target: ReplyTarget, speaker: str | None = None, quote: bool = True) -> TelegramReplySink:
        return TelegramReplySink(
            self._app.bot,
            int(target.chat),
            int(target.thread) if target.thread else None,
            int(target.reply_to) if target.reply_to and quote else None,
            final_format=self._settings.telegram.final_format,
            speaker=speaker,
        )

    async def _stream(self, request: ChatRequest, plan: Stream, policy: PacingPolicy) -> None:
        """The character's reply, relayed as paced edits (and journaled, so a crash cannot leave it half-written)."""
        sink = self._sink(request)
        if plan.journal is None:
            await relay_reply(plan.events, sink, policy, self._budgets)
            return
        render = {"policy": "private" if request.is_dm else "group"}
        place: Place[int] = Place(owner=self.owner, target=request.target, encode=str, render=render)
        await plan.journal.relay(plan.events, sink, policy, self._budgets, place)

    async def _say(self, request: ChatRequest, text: str, policy: PacingPolicy) -> None:
        """A one-off message (command answers), paced like replies."""

        async def once() -> AsyncIterator[ReplyEvent]:
            yield ReplyFinal(text=text)

        await relay_reply(once(), self._sink(request), policy, self._budgets)
