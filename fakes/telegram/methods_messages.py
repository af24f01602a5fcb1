"""Bot API methods that write to chats: send, edit, delete, chat actions, callbacks, drafts."""

from __future__ import annotations

import time
from typing import Any

from .api_call import (
    ApiCall,
    inline_markup,
    message_text,
    own_message,
    replied_message,
    require_inline_id_absent,
)
from .errors import NOT_MODIFIED, bad_request
from .records import ChatActionRecord, DraftRecord
from .texts import MAX_TEXT_LENGTH
from .world import StoredMessage, now_revision

CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})


async def send_message(call: ApiCall) -> Any:
    chat = call.chat()
    thread_id = call.thread(chat)
    text, entities = message_text(call.params, validate_markup=call.fake.validate_parse_mode)
    markup = inline_markup(call.params)
    replied = replied_message(call, chat)
    if thread_id is not None and replied is None:
        replied = call.fake.world.message(chat, thread_id)
    call.check_flood(chat)
    message = StoredMessage(
        chat, chat.allocate_message_id(), call.bot.user, [now_revision(text, entities, markup)],
        reply_to=replied, thread_id=thread_id, is_topic_message=thread_id is not None,
    )
    call.fake.world.store(message)
    if chat.is_group:
        chat.last_bot_sender = call.bot.id
    return message.to_api()


async def edit_message_text(call: ApiCall) -> Any:
    require_inline_id_absent(call.params)
    chat = call.chat()
    message = own_message(call, chat, "message to edit not found")
    if message.sender.id != call.bot.id or message.service is not None:
        raise bad_request("message can't be edited")
    text, entities = message_text(call.params, validate_markup=call.fake.validate_parse_mode)
    return _apply_edit(call, message, text, entities, inline_markup(call.params))


async def edit_message_reply_markup(call: ApiCall) -> Any:
    require_inline_id_absent(call.params)
    chat = call.chat()
    message = own_message(call, chat, "message to edit not found")
    if message.sender.id != call.bot.id:
        raise bad_request("message can't be edited")
    return _apply_edit(call, message, message.text, message.entities, inline_markup(call.params))


def _apply_edit(
    call: ApiCall, message: StoredMessage, text: str, entities: list[dict[str, Any]], markup: dict[str, Any] | None
) -> Any:
    if text == message.text and entities == message.entities and markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    call.check_flood(message.chat)
    message.versions.append(now_revision(text, entities, markup))
    return message.to_api()


async def delete_message(call: ApiCall) -> Any:
    chat = call.chat()
    _delete(call, own_message(call, chat, "message to delete not found"))
    return True


async def delete_messages(call: ApiCall) -> Any:
    chat = call.chat()
    ids = call.params.json_value("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a non-empty list of at most 100 identifiers")
    for message_id in ids:
        found = call.fake.world.message(chat, int(message_id))
        if found is not None and not found.deleted:
            _delete(call, found)
    return True


def _delete(call: ApiCall, message: StoredMessage) -> None:
    chat = message.chat
    is_admin = chat.status_of(call.bot.id) in ("creator", "administrator")
    if message.sender.id != call.bot.id and chat.is_group and not is_admin:
        raise bad_request("message can't be deleted")
    message.deleted = True


async def send_chat_action(call: ApiCall) -> Any:
    chat = call.chat()
    action = call.params.required_str("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    thread_id = call.thread(chat)
    call.check_flood(chat)
    call.fake.chat_action_log.append(ChatActionRecord(time.monotonic(), call.bot.id, chat.id, action, thread_id))
    return True


async def answer_callback_query(call: ApiCall) -> Any:
    query_id = call.params.required_str("callback_query_id")
    query = call.fake.callback_queries.get(query_id)
    if query is None or query.bot_id != call.bot.id or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = call.params.string("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered, query.answer_text = True, text
    query.show_alert = call.params.flag("show_alert")
    return True


async def send_message_draft(call: ApiCall) -> Any:
    chat = call.chat()
    if chat.type != "private":
        raise bad_request("draft messages can be sent only to private chats")
    draft_id = call.params.integer("draft_id") or 0
    if draft_id == 0:
        raise bad_request("draft_id must be non-zero")
    text = call.params.string("text") or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    call.check_flood(chat)
    call.fake.drafts.append(DraftRecord(time.monotonic(), call.bot.id, chat.id, draft_id, text))
    return True
