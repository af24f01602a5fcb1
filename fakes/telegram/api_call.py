"""Shared helpers of the Bot API method handlers: the call context, chat resolution and text checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .entities import strip_with_entities
from .errors import ApiError, bad_request, forbidden
from .markup import parse_text
from .params import Params
from .texts import MAX_TEXT_LENGTH, is_empty_text
from .world import BotAccount, Chat, StoredMessage

if TYPE_CHECKING:
    from .driver import Driver


@dataclass
class ApiCall:
    fake: Driver
    bot: BotAccount
    params: Params
    method: str
    is_alive: Any = None  # Callable[[], bool]: is the client's connection still open (long polls)

    def chat(self, *, sending: bool = True, name: str = "chat_id") -> Chat:
        return resolve_chat(self.fake, self.bot, self.params.chat_id(name), sending=sending)

    def check_flood(self, chat: Chat) -> None:
        self.fake.flood.check(self.bot.id, chat, self.method)

    def thread(self, chat: Chat) -> int | None:
        thread_id = self.params.integer("message_thread_id")
        if thread_id is None or thread_id == 0:
            return None
        if not chat.is_forum or thread_id not in chat.topics:
            raise bad_request("message thread not found")
        return thread_id


def resolve_chat(fake: Driver, bot: BotAccount, chat_id: int | str, *, sending: bool) -> Chat:
    """The chat a bot addresses, with Telegram's 400/403 answers when it may not."""
    world = fake.world
    if isinstance(chat_id, str):
        chat = world.find_public_chat(chat_id)
        if chat is None:
            raise bad_request("chat not found")
    elif chat_id > 0:
        return _private_chat(fake, bot, chat_id, sending=sending)
    else:
        found = world.group(chat_id)
        if found is None:
            raise bad_request("chat not found")
        chat = found
    kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
    status = chat.status_of(bot.id)
    if status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if not chat.is_member(bot.id):
        raise forbidden(f"bot is not a member of the {kind}")
    return chat


def _private_chat(fake: Driver, bot: BotAccount, user_id: int, *, sending: bool) -> Chat:
    user = fake.world.users.get(user_id)
    if user is None or user.is_bot:
        raise bad_request("chat not found")
    if sending and user_id in bot.blocked_by:
        raise forbidden("bot was blocked by the user")
    if sending and user_id not in bot.started_by:
        raise forbidden("bot can't initiate conversation with a user")
    chat = fake.world.chats.get((bot.id, user_id))
    return chat if chat is not None else fake.private_chat(user, bot)


def message_text(params: Params, *, validate_markup: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities after parse_mode/entities processing and trimming, with Telegram's checks."""
    raw = params.string("text") or ""
    parsed = parse_text(raw, params.string("parse_mode")) if validate_markup else None
    if parsed is None:
        entities = params.json_value("entities") or []
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        text, entities = raw, entities
    else:
        text, entities = parsed
    text, entities = strip_with_entities(text, entities)
    if not text:
        raise bad_request("message text is empty")
    if is_empty_text(text):  # only invisible characters: TDLib's check, after the Bot API's own
        raise bad_request("message must be non-empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, entities


def inline_markup(params: Params) -> dict[str, Any] | None:
    """The inline keyboard to attach (other keyboards are not part of the Message object)."""
    markup = params.json_value("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows}


def replied_message(call: ApiCall, chat: Chat) -> StoredMessage | None:
    params = call.params
    reply = params.json_value("reply_parameters")
    if isinstance(reply, dict):
        message_id, allow_missing = reply.get("message_id"), bool(reply.get("allow_sending_without_reply"))
    else:
        message_id = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
    if message_id is None:
        return None
    found = call.fake.world.message(chat, int(message_id))
    if found is None or found.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return found


def own_message(call: ApiCall, chat: Chat, missing: str) -> StoredMessage:
    message_id = call.params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    found = call.fake.world.message(chat, message_id)
    if found is None or found.deleted:
        raise bad_request(missing)
    return found


def require_inline_id_absent(params: Params) -> None:
    if params.has("inline_message_id"):
        raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
