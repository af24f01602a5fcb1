"""The Telegram adapter: python-telegram-bot wiring, command dispatch, and streamed replies through the relay."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from adapters.telegram.admins import ChatAdmins
from adapters.telegram.normalize import BotIdentity, message_key, normalize_message
from adapters.telegram.render import TelegramReplySink
from bot.admin import AdminCommands
from bot.models import ChatRequest, ReplyEvent, ReplyFinal
from bot.npc import NpcNotice, Ticket
from bot.relay import Budgets, PacingPolicy, relay_reply
from bot.service import ChatService
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

HELP_TEXT = (
    "Talk to the character here.\n"
    "In private chats every message is answered. In groups, mention me, reply to one of my messages, "
    "or use /chat <message>.\n"
    "/start – the character's greeting\n"
    "/reset – start a new conversation\n"
    "/regenerate – another answer to the last message\n"
    "/status – which character answers here\n"
    "Where several characters are cast, name one, reply to its message, or use /npc <name> <message>.\n"
    "Admins: /preset list · /preset use <name> · /preset show <name> · /character <id> · /preset help"
)

# The answer to a message addressed to the bot with no visible text (say, only zero-width characters):
# the character is not asked, and the user learns why nothing else happens.
NO_TEXT = "Your message has no visible text, so there is nothing for the character to answer."

Handler = Callable[[ChatRequest], Awaitable[None]]

# The arrival ticket of the update being handled (each PTB update runs in its own task and context).
_ticket: ContextVar[Ticket | None] = ContextVar("telegram_npc_ticket", default=None)


class TelegramAdapter:
    name = "telegram"

    def __init__(self, settings: Settings, service: ChatService, admin: AdminCommands | None = None) -> None:
        config = settings.telegram
        assert config.token is not None, "the Telegram adapter needs a token"
        self._settings = settings
        self._service = service
        self._app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(config.token.get_secret_value())
            .base_url(config.base_url)
            .base_file_url(config.base_file_url)
            .concurrent_updates(True)
            .build()
        )
        self._app.add_handler(MessageHandler(filters.TEXT | filters.CAPTION | filters.COMMAND, self._on_update))
        self._policies = {
            "private": PacingPolicy.telegram_private().with_overrides(config.pacing.get("private", {})),
            "group": PacingPolicy.telegram_group().with_overrides(config.pacing.get("group", {})),
        }
        self._budgets = Budgets.for_policy(self._policies["group"])
        self._me = BotIdentity(id=0, username="")
        self._admin = admin
        self._chat_admins = ChatAdmins(self._app.bot, config.admin_cache_seconds)
        self._commands: dict[str, Handler] = {
            "start": self._greet,
            "help": self._help,
            "chat": self._chat,
            "reset": self._reset,
            "regenerate": self._regenerate,
            "status": self._status,
            "npc": self._npc,
        }
        if admin is not None:
            self._commands["preset"] = self._admin_command
            self._commands["character"] = self._admin_command

    def add_command(self, name: str, handler: Handler) -> None:
        """Register another command (the admin commands plug in here)."""
        self._commands[name] = handler

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
                allowed_updates=["message"],
            )  # fmt: skip
        else:
            await updater.start_polling(allowed_updates=["message"])
        log.info("Telegram bot @%s is running (%s)", self._me.username, config.mode)

    async def stop(self) -> None:
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()

    @property
    def bot_username(self) -> str:
        return self._me.username

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        request = normalize_message(message, self._me)
        if request is None:
            return
        ticket = self._service.npc.arrive(request)  # before any await: keeps the chat's arrival order
        _ticket.set(ticket)
        try:
            if not await self._service.first_delivery(request):
                return
            if request.command is not None:
                handler = self._commands.get(request.command)
                if handler is not None:
                    await handler(request)
                elif request.is_dm:
                    await self._say(request, f"I don't know /{request.command}. Try /help.")
            elif not request.text:
                if request.is_dm or request.mentions_bot or request.reply_to_bot:
                    await self._say(request, NO_TEXT)
            elif await self._service.npc.applies(request):
                await self._npc(request)
            elif await self._service.should_answer(request):
                await self._stream(request, self._service.reply(request))
        except Exception:
            log.exception("handling Telegram message %s failed", request.message_id)
        finally:
            ticket.release()

    async def _chat(self, request: ChatRequest) -> None:
        if not request.text:
            await self._say(request, "Usage: /chat <message>")
            return
        if await self._service.npc.applies(request):
            await self._npc(request)
            return
        await self._stream(request, self._service.reply(request))

    async def _npc(self, request: ChatRequest) -> None:
        """The cast's answer: each NPC reply under its bold name, remembered so replies to it reach it."""
        policy = await self._policy(request)
        chat = int(request.target.chat)
        async for item in self._service.npc.reply(request, _ticket.get()):
            if isinstance(item, NpcNotice):
                await self._say(request, item.text)
                continue
            sink = self._sink(request, speaker=item.speaker.name, quote=not item.scene)
            result = await relay_reply(item.events, sink, policy, self._budgets)
            shown = [message_key(chat, handle) for handle in result.handles]
            await self._service.npc.remember(request, item.speaker, shown)

    async def _regenerate(self, request: ChatRequest) -> None:
        await self._stream(request, self._service.regenerate(request))

    async def _greet(self, request: ChatRequest) -> None:
        result = await self._service.greeting(request)
        await self._say(request, result.text if isinstance(result, ReplyFinal) else result.message)

    async def _reset(self, request: ChatRequest) -> None:
        result = await self._service.reset(request)
        if isinstance(result, ReplyFinal):
            await self._say(request, f"New conversation started.\n\n{result.text}")
        else:
            await self._say(request, result.message)

    async def _admin_command(self, request: ChatRequest) -> None:
        assert self._admin is not None and request.command is not None
        user_id = int(request.user_id.removeprefix("telegram:"))
        chat_admin = not request.is_dm and await self._chat_admins.is_admin(int(request.target.chat), user_id)
        result = await self._admin.handle(request, request.command, request.text, platform_admin=chat_admin)
        await self._say(request, result.text)
        if result.greeting is not None:
            await self._say(request, result.greeting.text)

    async def _help(self, request: ChatRequest) -> None:
        await self._say(request, HELP_TEXT)

    async def _status(self, request: ChatRequest) -> None:
        await self._say(request, (await self._service.status(request)).describe())

    def _sink(self, request: ChatRequest, speaker: str | None = None, quote: bool = True) -> TelegramReplySink:
        target = request.target
        return TelegramReplySink(
            self._app.bot,
            int(target.chat),
            int(target.thread) if target.thread else None,
            int(target.reply_to) if target.reply_to and quote else None,
            final_format=self._settings.telegram.final_format,
            speaker=speaker,
        )

    async def _policy(self, request: ChatRequest) -> PacingPolicy:
        return await self._service.pacing(request, self._policies["private" if request.is_dm else "group"])

    async def _stream(self, request: ChatRequest, events: AsyncIterator[ReplyEvent]) -> None:
        policy = await self._policy(request)
        await relay_reply(events, self._sink(request), policy, self._budgets)

    async def _say(self, request: ChatRequest, text: str) -> None:
        """A one-off message (command answers), paced like replies."""

        async def once() -> AsyncIterator[ReplyEvent]:
            yield ReplyFinal(text=text)

        await self._stream(request, once())
