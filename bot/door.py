"""The core's one door: every incoming platform message enters here, on every platform, in the same order.

``Door.handle`` drops edits and redeliveries, resolves the route once, decides whether and how to answer (bot
commands, DMs, mentions, replies, the preset's trigger, media once a while), chooses the single-character or the
NPC way, and hands the adapter one plan (``bot.plans``) to render. When the state store cannot be reached meanwhile,
the plan is a short "temporarily unavailable" notice, at most once a while per conversation (``bot.unavailable``).
Adapters only normalise, render and wire their SDK::

    ticket = door.arrive(request.conversation_id)   # synchronous, before any await
    try:
        plan = await door.handle(request, ticket, is_admin=...)
        ... render plan ...
    finally:
        ticket.release()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from bot.admin import AdminCommands
from bot.conversations import ConversationBook
from bot.journal import Journal, ReplyKind, Restorer
from bot.keys import Notice
from bot.models import ChatRequest, ReplyEvent, ReplyFinal, Speaker
from bot.npc import NPC_USAGE, NpcService, Ticket, is_npc_preset
from bot.npc.service import NO_CAST
from bot.plans import Cast, Plan, Say, Skip, Stream
from bot.ports import StoreUnavailable
from bot.router import Route, Router
from bot.service import NO_PRESET, ChatService, ConversationStatus
from bot.text import clip, is_blank
from bot.unavailable import OutageNotices

AdminCheck = Callable[[], Awaitable[bool]]

ADMIN_COMMANDS = frozenset({"preset", "character"})
CHAT_USAGE = "Usage: /chat <message>"
NO_TEXT = "✏️ Your message has no text for the character to answer (only text is passed on)."
ONLY_TEXT = "✏️ I can only read text: photos, stickers, voice messages and files are not passed on to the character."
MEDIA_NOTICE_SECONDS = 3600.0
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


NO_PRESET_PLAN = Say(NO_PRESET.message, error=NO_PRESET.code)


def is_addressed(request: ChatRequest, trigger: str) -> bool:
    """DMs always; in groups when addressed, or every message when the preset says so."""
    return (
        request.is_dm or request.mentions_bot or request.reply_to_bot or request.command == "chat" or trigger == "all"
    )


async def _nobody_is_admin() -> bool:
    return False


class Door:
    def __init__(
        self,
        service: ChatService,
        npc: NpcService,
        router: Router,
        admin: AdminCommands,
        conversations: ConversationBook,
        journal: Journal,
        outage: OutageNotices | None = None,
        *,
        media_notice_seconds: float = MEDIA_NOTICE_SECONDS,
    ) -> None:
        """``media_notice_seconds``: how long after saying it only reads text the door stays quiet about
        further media in the same place."""
        self.conversations = conversations  # reading and restarting conversations (the HTTP API)
        self.outage = outage or OutageNotices()  # what users hear while the store is unreachable, how often
        self._media_notice_seconds = media_notice_seconds
        self._journal = journal
        self._service = service
        self._npc = npc
        self._router = router
        self._admin = admin

    def arrive(self, conversation_id: str) -> Ticket:
        """The message's place in its chat's arrival order; take it before any await."""
        return self._npc.arrive_in(conversation_id)

    async def handle(
        self, request: ChatRequest, ticket: Ticket | None = None, is_admin: AdminCheck | None = None
    ) -> Plan:
        """The plan for one platform message. ``is_admin`` asks the platform whether the author administers
        the chat (only called for admin commands)."""
        try:
            return await self._handle(request, ticket, is_admin or _nobody_is_admin)
        except StoreUnavailable:  # logged once per outage by the store (bot.store.reachability)
            return self._unavailable(request)

    def _unavailable(self, request: ChatRequest) -> Say | Skip:
        """The answer while the store is unreachable: the notice, unless this conversation heard it lately or
        the message was not for the bot (without the store the preset's trigger is unknown: only a DM, a
        mention, a reply to the bot or a command counts)."""
        if request.command is None and not is_addressed(request, "mention"):
            return Skip("the store is unreachable; not addressed")
        reply = self.outage.reply
        notice = Say(reply.message, error=reply.code, retry_after=reply.retry_after)
        if self.outage.due(request.conversation_key):
            return notice
        return Skip("the store is unreachable; told this conversation already", notice=notice)

    async def _handle(self, request: ChatRequest, ticket: Ticket | None, is_admin: AdminCheck) -> Plan:
        if request.edited:  # the character answered the message as it was sent
            return Skip("edited")
        if not await self._service.first_delivery(request):
            return Skip("redelivered")
        route = await self._router.resolve(request)
        if request.command is not None:
            return await self._command(request, route, ticket, is_admin)
        if is_blank(request.text):  # a sticker, only a mention, zero-width characters: nothing to pass on
            if not (request.is_dm or request.mentions_bot or request.reply_to_bot):
                return Skip("empty")
            return await self._no_text(request)
        if route is not None and is_npc_preset(route.preset):
            return self._cast(request, route, ticket)
        if not is_addressed(request, route.preset.trigger if route is not None else "mention"):
            return Skip("not addressed")
        return self._reply(request, route)

    async def _no_text(self, request: ChatRequest) -> Plan:
        """An addressed message with nothing to pass on. Media (stickers, photos, ...) are answered once a
        while per place, so a run of stickers gets one answer, not one each."""
        if not request.has_media:
            return Say(NO_TEXT, error="invalid")
        place = Notice(request.platform, "media", request.conversation_key)
        if await self._service.first_time(place, self._media_notice_seconds):
            return Say(ONLY_TEXT, error="invalid")
        return Skip("media again")

    async def recover(self, restorer: Restorer) -> int:
        """Finish the replies an adapter left half-written when the bridge last stopped (call it once started)."""
        return await self._journal.recover(restorer)

    async def preset_names(self, prefix: str) -> list[str]:
        """Preset names starting with ``prefix``, for autocomplete (none while the store is unreachable)."""
        try:
            return await self._admin.preset_names(prefix)
        except StoreUnavailable:
            return []

    async def first_time(self, key: Notice, ttl_seconds: float) -> bool:
        """True the first time ``key`` is seen within the ttl (an adapter's once-a-week notices); False while the
        store is unreachable (better a notice missed than one repeated on every message)."""
        try:
            return await self._service.first_time(key, ttl_seconds)
        except StoreUnavailable:
            return False

    async def status(self, request: ChatRequest) -> ConversationStatus:
        """Which character answers the request's conversation (``/status``, the HTTP API)."""
        return await self._service.status(request, await self._router.resolve(request))

    async def _command(
        self, request: ChatRequest, route: Route | None, ticket: Ticket | None, is_admin: AdminCheck
    ) -> Plan:
        command = request.command
        pacing = route.preset.pacing if route is not None else {}
        match command:
            case "chat":
                if is_blank(request.text):
                    return Say(CHAT_USAGE, error="invalid", pacing=pacing)
                if route is not None and is_npc_preset(route.preset):
                    return self._cast(request, route, ticket)
                return self._reply(request, route)
            case "npc":
                if is_blank(request.text):
                    return Say(f"Usage: {NPC_USAGE} (with some text)", error="invalid", pacing=pacing)
                if route is None or not is_npc_preset(route.preset):
                    return Say(NO_CAST, error="invalid", pacing=pacing)
                return self._cast(request, route, ticket)
            case "regenerate":
                if route is None:
                    return NO_PRESET_PLAN
                return self._stream(self._service.regenerate(request, route), route, request, "regenerate")
            case "start":
                if route is None:
                    return NO_PRESET_PLAN
                greeting = await self._service.greeting(route)
                text = greeting.text if isinstance(greeting, ReplyFinal) else greeting.message
                return Say(text, pacing=pacing)
            case "reset":
                if route is None:
                    return NO_PRESET_PLAN
                result = await self._service.reset(route)
                if not isinstance(result, ReplyFinal):
                    return Say(result.message, error=result.code, pacing=pacing)
                return Say(
                    "New conversation started.",
                    greeting=result.text,
                    speaker=lambda: self._service.speaker(route),
                    pacing=pacing,
                )
            case "status":
                return Say((await self._service.status(request, route)).describe(), pacing=pacing)
            case "help":
                return Say(HELP_TEXT, pacing=pacing)
            case _ if command in ADMIN_COMMANDS:
                admin = not request.is_dm and await is_admin()
                done = await self._admin.handle(request, command, request.text, platform_admin=admin)
                line = done.greeting.text if done.greeting is not None else None
                return Say(
                    done.text,
                    error=None if done.ok else "invalid",
                    greeting=line,
                    greeting_apart=True,
                    speaker=lambda: self._speaker_now(request),
                )
            case _:
                if request.is_dm:
                    return Say(f"I don't know /{clip(str(command))}. Try /help.", error="invalid")
                return Skip("unknown command")

    async def _speaker_now(self, request: ChatRequest) -> Speaker | None:
        """Who answers the request's conversation now (after an admin command changed it); None when the store
        cannot say."""
        try:
            route = await self._router.resolve(request)
        except StoreUnavailable:
            return None
        return None if route is None else await self._service.speaker(route)

    def _reply(self, request: ChatRequest, route: Route | None) -> Plan:
        if route is None:
            return NO_PRESET_PLAN
        return self._stream(self._service.reply(request, route), route, request, "reply")

    def _stream(self, events: AsyncIterator[ReplyEvent], route: Route, request: ChatRequest, kind: ReplyKind) -> Stream:
        return Stream(
            events=events, route=route, speaker=lambda: self._service.speaker(route), pacing=route.preset.pacing,
            journal=self._journal.ticket(request, route, kind),
        )  # fmt: skip

    def _cast(self, request: ChatRequest, route: Route, ticket: Ticket | None) -> Cast:
        return Cast(
            items=self._npc.reply(request, route, ticket),
            route=route,
            remember=lambda speaker, ids: self._npc.remember(request, speaker, ids),
            pacing=route.preset.pacing,
        )
