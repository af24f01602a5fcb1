"""The sandbox's Telegram: the fake Bot API with one bot, and the real Telegram adapter polling it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bot.core import Core
from bot.models import ChatRequest, ReplyTarget
from config.settings import Settings
from fakes.telegram import Chat, FakeTelegram, User
from fakes.telegram.world import MemberStatus
from sandbox.demo import SandboxTiming
from sandbox.platform import BotMessage, ChatRef, Place, RealAdapter, SandboxError
from sandbox.settings import TELEGRAM_BOT_NAME, TELEGRAM_BOT_USERNAME, TELEGRAM_TOKEN, telegram_section

T = TypeVar("T")

FETCH_TIMEOUT = 10.0  # the adapter polls continuously; longer than this means it is not running
SETTLE_TIMEOUT = 120.0


class TelegramSide:
    name = "telegram"

    def __init__(self, timing: SandboxTiming) -> None:
        self._timing = timing
        self.fake = FakeTelegram(time_scale=timing.time_scale)
        self._bot = self.fake.add_bot(TELEGRAM_TOKEN, TELEGRAM_BOT_USERNAME, TELEGRAM_BOT_NAME)
        self._users: dict[str, User] = {}
        self._groups: dict[str, Chat] = {}
        self._admins: set[str] = set()
        self._real = RealAdapter(self.name)

    @property
    def bot_handle(self) -> str:
        return f"@{TELEGRAM_BOT_USERNAME}"

    async def start_fake(self) -> dict[str, Any]:
        """Start the fake Bot API; returns the ``telegram`` settings section that points at it."""
        await self.fake.start()
        return telegram_section(self.fake.base_url, self.fake.base_file_url, self._timing)

    async def start(self, core: Core, settings: Settings) -> None:
        await self._real.start(core, settings)

    async def stop(self) -> None:
        await self._real.stop()
        await self.fake.stop()

    # ---- the world, as the sandbox user changes it ----------------------------------------------

    def _user(self, name: str) -> User:
        user = self._users.get(name)
        if user is None:
            user = self.fake.add_user(name, name.lower())
            self._users[name] = user
        return user

    def _chat(self, user_name: str, place: Place) -> Chat:
        user = self._user(user_name)
        if place.kind == "private":
            return self.fake.private_chat(user)
        group = self._groups.get(place.group)
        if group is None:
            group = self.fake.add_group(place.group, creator=None, bots=[self._bot], supergroup=True)
            self._groups[place.group] = group
        if not group.is_member(user.id):
            self.fake.set_member(group, user, self._status(user_name))
        return group

    def _status(self, user_name: str) -> MemberStatus:
        return "administrator" if user_name in self._admins else "member"

    def place_label(self, user: str, place: Place) -> str:
        return place.short(user)

    def place_description(self, place: Place) -> str:
        if place.kind == "private":
            return f"their private chat with {self.bot_handle} on Telegram"
        return f"the Telegram group {place.group!r}"

    async def enter(self, user: str, place: Place) -> None:
        self._chat(user, place)

    async def set_admin(self, user: str, admin: bool) -> str:
        (self._admins.add if admin else self._admins.discard)(user)
        account = self._user(user)
        for group in self._groups.values():
            if group.is_member(account.id):
                self.fake.set_member(group, account, self._status(user))
        what = "an administrator" if admin else "no longer an administrator"
        return f"{user} is {what} of every group they are in"

    async def send(self, user: str, place: Place, text: str, *, reply_to_bot: bool = False) -> None:
        chat = self._chat(user, place)
        replied = None
        if reply_to_bot:
            mine = self.fake.bot_messages(chat, self._bot)
            if not mine:
                raise SandboxError("the bot has not written here yet, so there is nothing to reply to")
            replied = mine[-1]
        try:
            self.fake.user_sends(chat, self._user(user), text, reply_to=replied)
        except ValueError as exc:  # a text no Telegram app could send (too long, nothing visible)
            raise SandboxError(str(exc)) from None

    # ---- observing -------------------------------------------------------------------------------

    def _find(self, chat: ChatRef) -> Chat | None:
        if chat.place.kind == "group":
            return self._groups.get(chat.place.group)
        user = self._users.get(chat.user)
        return self.fake.private_chat(user) if user is not None else None

    def bot_messages(self, chat: ChatRef) -> list[BotMessage]:
        found = self._find(chat)
        if found is None:
            return []
        return [
            BotMessage(f"{found.id}:{m.message_id}", tuple(v.text for v in m.versions))
            for m in self.fake.bot_messages(found, self._bot)
        ]

    def request_for(self, chat: ChatRef) -> ChatRequest:
        found = self._find(chat)
        if found is None:
            raise SandboxError(f"no such chat: {chat.describe()}")
        user = self._users.get(chat.user)
        user_id = user.id if user is not None else 0
        return ChatRequest(
            platform="telegram", conversation_id=f"telegram:{found.id}", user_id=f"telegram:{user_id}",
            user_name=chat.user or "sandbox", is_dm=chat.place.kind == "private", text="",
            message_id="sandbox:lookup", target=ReplyTarget(platform="telegram", chat=str(found.id)),
        )  # fmt: skip

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109
        return await self.fake.wait_for(predicate, timeout)

    def _last_bot_activity(self) -> float:
        return max((self.fake.last_activity(chat) for chat in self.fake.world.chats.values()), default=0.0)

    async def settle(self, quiet: float) -> None:
        """Every update fetched by the adapter, the upstream work done, then ``quiet`` s of bot silence."""
        queue = self._bot.queue
        try:
            await self.fake.wait_for(lambda: not queue.pending, FETCH_TIMEOUT)
        except TimeoutError:
            raise SandboxError("the bot is not fetching its updates (see the log in the data directory)") from None
        fetched = time.monotonic()

        def last() -> float:
            return max(fetched, self._last_bot_activity())

        with contextlib.suppress(TimeoutError):
            await self.fake.wait_quiet(last, quiet, SETTLE_TIMEOUT)
            await self._real.drain()
            await self.fake.wait_quiet(last, quiet, SETTLE_TIMEOUT)

    def counters(self) -> list[str]:
        counters = self.fake.counters()
        requests = counters.requests
        typing = requests.get("sendChatAction", 0)
        lines = [
            f"telegram: {requests.get('sendMessage', 0)} messages sent, {requests.get('editMessageText', 0)} edits, "
            f"{typing} typing indicators, {sum(requests.values())} Bot API requests in all",
            f"telegram: {counters.too_many_requests} answered 429 Too Many Requests, {counters.penalties} penalties "
            f"(calls made before retry_after elapsed)",
        ]
        errors = {k: n for k, n in counters.statuses.items() if not k.endswith(":200")}
        if errors:
            lines.append("telegram errors: " + ", ".join(f"{k} x{n}" for k, n in sorted(errors.items())))
        return lines
