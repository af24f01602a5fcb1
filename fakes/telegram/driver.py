"""The in-process driver: build the world, act as users, inject faults, and observe the bot.

``FakeTelegram`` (server.py) adds the HTTP side on top of this class.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterable
from typing import Any

from .delivery import should_deliver
from .entities import detect_entities, strip_with_entities
from .flood import Clock, FloodConfig, FloodControl, StormRule
from .media import MediaKind, caption_problem, media_fields
from .records import CallbackQueryRecord, Counters, FaultRule, Recorder
from .texts import user_text_problem
from .world import (
    BotAccount,
    Chat,
    MemberStatus,
    Revision,
    StoredMessage,
    User,
    World,
    now_revision,
    scope_key,
)

Member = User | BotAccount


def _user_of(who: Member) -> User:
    return who.user if isinstance(who, BotAccount) else who


def _typed_text(text: str, entities: list[dict[str, Any]] | None) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram makes of a text a user typed: trimmed, with its entities (detected unless given)."""
    problem = user_text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return strip_with_entities(text, detect_entities(text) if entities is None else entities)


class Driver(Recorder):
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        flood: FloodConfig | None = None,
        validate_parse_mode: bool = True,
        flood_clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        self.validate_parse_mode = validate_parse_mode
        base = flood or FloodConfig()
        config = base.model_copy(update={"time_scale": time_scale}) if time_scale != 1.0 else base
        self.world = World()
        self.flood = FloodControl(config, flood_clock)
        self._bot_ids = itertools.count(7_000_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_001)

    @property
    def time_scale(self) -> float:
        return self.flood.config.time_scale

    # ---- identities and chats -------------------------------------------------------------------

    def add_bot(
        self,
        token: str = "123:TEST",
        username: str = "TestBot",
        first_name: str | None = None,
        *,
        privacy: bool = True,
        bot_id: int | None = None,
    ) -> BotAccount:
        """Register a bot; its id defaults to the digits before the token's colon (as on Telegram)."""
        if bot_id is None:
            prefix = token.partition(":")[0]
            bot_id = int(prefix) if prefix.isdigit() else next(self._bot_ids)
        user = User(bot_id, first_name or username, username=username, is_bot=True)
        bot = BotAccount(token=token, user=user, privacy=privacy)
        self.world.bots_by_token[token] = bot
        self.world.users[user.id] = user
        return bot

    def bot(self, ref: BotAccount | str | int | None = None) -> BotAccount:
        """A bot by account, token, username or id; ``None`` means the only (or first) bot."""
        if isinstance(ref, BotAccount):
            return ref
        bots = list(self.world.bots_by_token.values())
        for bot in bots:
            if ref is None or ref in (bot.token, bot.id) or (
                isinstance(ref, str) and ref.lstrip("@").lower() == bot.username.lower()
            ):
                return bot
        raise KeyError(f"no such bot: {ref!r}")

    def add_user(
        self,
        first_name: str = "Alice",
        username: str | None = None,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        user = User(user_id or self.world.next_user_id(), first_name, username, last_name,
                    language_code=language_code)
        self.world.users[user.id] = user
        return user

    def private_chat(self, user: User, bot: BotAccount | str | None = None, *, started: bool = False) -> Chat:
        """The private chat between ``user`` and ``bot``; the bot may write first only once started."""
        account = self.bot(bot)
        chat = self.world.chats.get((account.id, user.id))
        if chat is None:
            chat = Chat(user.id, "private", bot_id=account.id, peer=user)
            chat.members = {user.id: "member", account.id: "member"}
            self.world.chats[chat.key] = chat
        if started:
            account.started_by.add(user.id)
        return chat

    def add_group(
        self,
        title: str = "Test group",
        *,
        members: Iterable[User] = (),
        bots: Iterable[BotAccount | str] = (),
        admins: Iterable[Member] = (),
        creator: User | None = None,
        supergroup: bool = False,
        forum: bool = False,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> Chat:
        """A group (or supergroup; ``forum=True`` implies supergroup) with its members and bots."""
        is_super = supergroup or forum or username is not None
        chat = Chat(
            chat_id or self.world.next_group_id(is_super), "supergroup" if is_super else "group",
            title=title, username=username, is_forum=forum,
        )
        self.world.chats[chat.key] = chat
        if creator is not None:
            chat.members[creator.id] = "creator"
        for user in members:
            chat.members.setdefault(user.id, "member")
        for bot in bots:
            chat.members.setdefault(self.bot(bot).id, "member")
        for who in admins:
            chat.members[_user_of(who).id] = "administrator"
        return chat

    def set_member(self, chat: Chat, who: Member, status: MemberStatus = "member") -> None:
        """Add, promote (``"administrator"``), remove (``"left"``) or ban (``"kicked"``) a member."""
        user = _user_of(who)
        self.world.users.setdefault(user.id, user)
        chat.members[user.id] = status
        self.notify()

    def add_bot_to_group(self, chat: Chat, bot: BotAccount | str | None = None, *, admin: bool = False) -> None:
        self.set_member(chat, self.bot(bot), "administrator" if admin else "member")

    def set_privacy(self, bot: BotAccount | str | None, enabled: bool) -> None:
        self.bot(bot).privacy = enabled

    def user_blocks_bot(self, user: User, bot: BotAccount | str | None = None) -> None:
        self.bot(bot).blocked_by.add(user.id)

    def create_topic(self, chat: Chat, name: str, creator: User | None = None) -> int:
        """Open a forum topic; returns its ``message_thread_id`` (the id of its creation message)."""
        if not chat.is_forum:
            raise ValueError("topics need a forum supergroup (add_group(..., forum=True))")
        author = creator or next(
            (self.world.users[uid] for uid in chat.members if uid in self.world.users), None
        )
        if author is None:
            raise ValueError("the chat has no member who could create a topic")
        thread_id = chat.allocate_message_id()
        chat.topics[thread_id] = name
        message = StoredMessage(
            chat, thread_id, author, [now_revision("", [], None)], thread_id=thread_id, is_topic_message=True,
            service={"forum_topic_created": {"name": name, "icon_color": 7322096}},
        )
        self._deliver(self.world.store(message), "message")
        return thread_id

    # ---- acting as users ------------------------------------------------------------------------

    def user_sends(
        self,
        chat: Chat,
        user: User,
        text: str,
        *,
        reply_to: StoredMessage | int | None = None,
        thread_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> StoredMessage:
        """Post ``text`` as ``user``; entities are detected like Telegram does unless given. Like Telegram, the
        text is trimmed, and one no app could send (empty, only invisible characters, over 4096 characters)
        raises ValueError."""
        text, entities = _typed_text(text, entities)
        if chat.type != "private" and not chat.is_member(user.id):
            raise ValueError(f"user {user.id} is not a member of chat {chat.id}")
        if thread_id is not None and thread_id not in chat.topics:
            raise ValueError(f"chat {chat.id} has no topic {thread_id}")
        replied = self._replied(chat, reply_to)
        if thread_id is not None and replied is None:
            replied = self.world.message(chat, thread_id)  # Telegram's implicit reply to the topic root
        message = StoredMessage(
            chat, chat.allocate_message_id(), user, [now_revision(text, entities, None)],
            reply_to=replied, thread_id=thread_id, is_topic_message=thread_id is not None,
        )
        self._wrote_to_bot(chat, user)
        self._deliver(self.world.store(message), "message")
        return message

    def _wrote_to_bot(self, chat: Chat, user: User) -> None:
        """Writing to a bot in private starts (or unblocks) it for that user."""
        if chat.type == "private":
            bot = self.bot(chat.bot_id)
            bot.started_by.add(user.id)
            bot.blocked_by.discard(user.id)

    def user_sends_media(
        self,
        chat: Chat,
        user: User,
        kind: MediaKind,
        *,
        caption: str | None = None,
        reply_to: StoredMessage | int | None = None,
    ) -> StoredMessage:
        """Post a photo, sticker, voice message or file as ``user``, with an optional caption (trimmed, its
        entities detected, like a text)."""
        problem = caption_problem(kind, caption)
        if problem is not None:
            raise ValueError(problem)
        text, entities = strip_with_entities(caption, detect_entities(caption)) if caption else ("", [])
        if chat.type != "private" and not chat.is_member(user.id):
            raise ValueError(f"user {user.id} is not a member of chat {chat.id}")
        message_id = chat.allocate_message_id()
        message = StoredMessage(
            chat, message_id, user, [now_revision(text, entities, None)], reply_to=self._replied(chat, reply_to),
            media=media_fields(kind, message_id),
        )
        self._wrote_to_bot(chat, user)
        self._deliver(self.world.store(message), "message")
        return message

    def user_edits(self, message: StoredMessage, text: str) -> StoredMessage:
        text, entities = _typed_text(text, None)
        message.versions.append(now_revision(text, entities, message.reply_markup))
        self._deliver(message, "edited_message")
        return message

    def press_button(self, message: StoredMessage, user: User, data: str) -> str:
        """Press an inline button carrying ``callback_data == data``; returns the callback query id."""
        keyboard = (message.reply_markup or {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in keyboard for button in row):
            raise ValueError(f"message {message.message_id} has no button with callback_data {data!r}")
        bot = self.bot(message.sender.id)
        query_id = str(next(self._callback_ids))
        self.callback_queries[query_id] = CallbackQueryRecord(query_id, bot.id, user.id, data, message.message_id)
        bot.queue.push("callback_query", {
            "id": query_id, "from": user.to_api(), "message": message.to_api(),
            "chat_instance": str(abs(hash((bot.id, message.chat.key)))), "data": data,
        })
        self.notify()
        return query_id

    def _replied(self, chat: Chat, reply_to: StoredMessage | int | None) -> StoredMessage | None:
        if reply_to is None:
            return None
        message_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
        found = self.world.message(chat, message_id)
        if found is None:
            raise ValueError(f"no message {message_id} in chat {chat.id}")
        return found

    def _deliver(self, message: StoredMessage, kind: str) -> None:
        for bot in self.world.bots_by_token.values():
            if should_deliver(bot, message):
                bot.queue.push(kind, message.to_api())
        self.notify()

    # ---- observing --------------------------------------------------------------------------------

    def transcript(self, chat: Chat, *, include_deleted: bool = False) -> list[StoredMessage]:
        """Every message of the chat in order (users' and bots'), each with its full edit history."""
        return [m for m in self.world.messages_in(chat) if (include_deleted or not m.deleted) and not m.service]

    def bot_messages(self, chat: Chat, bot: BotAccount | str | None = None) -> list[StoredMessage]:
        bot_id = self.bot(bot).id if bot is not None or chat.type != "private" else chat.bot_id
        return [message for message in self.transcript(chat) if message.sender.id == bot_id]

    def edits(self, message: StoredMessage) -> list[Revision]:
        return message.edits

    def last_activity(self, chat: Chat) -> float:
        """Monotonic time of the bot's latest write (message, edit, chat action) in ``chat``."""
        times = [revision.t for message in self.world.messages_in(chat) if message.from_bot
                 for revision in message.versions]
        times += [action.t for action in self.chat_action_log if action.chat_id == chat.id]
        return max(times, default=0.0)

    async def wait_idle(self, chat: Chat, quiet: float = 0.2, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot wrote nothing to ``chat`` for ``quiet`` seconds (its reply is final)."""
        await self.wait_quiet(lambda: self.last_activity(chat), quiet, timeout)

    async def wait_for_bot_message(
        self, chat: Chat, text: str | None = None, *, timeout: float = 5.0  # noqa: ASYNC109
    ) -> StoredMessage:
        """The first bot message in ``chat`` whose current text equals ``text`` (any text if None)."""

        def find() -> StoredMessage | None:
            return next((m for m in self.bot_messages(chat) if text is None or m.text == text), None)

        return await self.wait_for(find, timeout)

    def commands(
        self, bot: BotAccount | str | None = None, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return list(self.bot(bot).commands.get((scope_key(scope), language_code), []))

    def counters(self) -> Counters:
        stats = self.flood.stats
        return Counters(
            requests=dict(self.requests_by_method),
            statuses={f"{method}:{status}": n for (method, status), n in self.statuses.items()},
            too_many_requests=stats.too_many_requests,
            penalties=stats.penalties,
            too_many_by_chat={str(key[1]): n for key, n in stats.too_many_by_chat.items()},
            penalties_by_chat={str(key[1]): n for key, n in stats.penalties_by_chat.items()},
            conflicts=sum(bot.queue.conflicts for bot in self.world.bots_by_token.values()),
            faults_injected=self.faults_injected,
        )

    # ---- faults and flood control ---------------------------------------------------------------

    def configure_flood(self, **changes: Any) -> FloodConfig:
        """Change flood settings at run time, e.g. ``configure_flood(enabled=False)``."""
        self.flood.reconfigure(FloodConfig.model_validate({**self.flood.config.model_dump(), **changes}))
        return self.flood.config

    def storm(
        self,
        chat: Chat | None = None,
        *,
        duration: float | None = None,
        probability: float = 1.0,
        retry_after: int = 1,
        seed: int = 0,
    ) -> StormRule:
        """Answer 429 to counted calls (on ``chat`` or everywhere) for ``duration`` Telegram seconds
        (scaled; None = until ``calm()``), each with ``probability`` drawn from a seeded generator."""
        until = None if duration is None else self.flood.clock() + self.flood.scaled(duration)
        rule = StormRule(chat.key if chat else None, until, probability, retry_after, random.Random(seed))
        self.flood.storms.append(rule)
        return rule

    def calm(self) -> None:
        self.flood.storms.clear()

    def inject_fault(
        self,
        method: str = "*",
        *,
        status: int = 400,
        description: str = "Bad Request: injected fault",
        chat: Chat | int | None = None,
        retry_after: int | float | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        hold: bool = False,
        text: str | None = None,
    ) -> FaultRule:
        """The next ``times`` matching calls get this error (after ``delay`` seconds) instead of running. With
        ``hold`` each waits until ``release_holds()`` first (status 200: then runs normally); ``text`` matches
        only calls whose text parameter is exactly that. ``rule.hits`` counts the calls it caught."""
        chat_id = chat.id if isinstance(chat, Chat) else chat
        rule = FaultRule(method.lower(), status, description, chat_id, retry_after, times, delay, hold, text)
        self.faults.append(rule)
        return rule

    def release_holds(self) -> None:
        """Let every call held by a ``hold`` fault go on; later ones are held until the next release."""
        released, self.holds_released = self.holds_released, asyncio.Event()
        released.set()
        self.notify()
