"""The Bot API method table (Telegram method names are case-insensitive)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from . import methods_info as info
from . import methods_messages as messages
from .api_call import ApiCall

Handler = Callable[[ApiCall], Awaitable[Any]]

METHODS: dict[str, Handler] = {
    name.lower(): handler
    for name, handler in {
        "getMe": info.get_me,
        "logOut": info.log_out_or_close,
        "close": info.log_out_or_close,
        "getUpdates": info.get_updates,
        "setWebhook": info.set_webhook,
        "deleteWebhook": info.delete_webhook,
        "getWebhookInfo": info.get_webhook_info,
        "setMyCommands": info.set_my_commands,
        "getMyCommands": info.get_my_commands,
        "deleteMyCommands": info.delete_my_commands,
        "getChat": info.get_chat,
        "getChatMember": info.get_chat_member,
        "getChatAdministrators": info.get_chat_administrators,
        "getChatMemberCount": info.get_chat_member_count,
        "sendMessage": messages.send_message,
        "editMessageText": messages.edit_message_text,
        "editMessageReplyMarkup": messages.edit_message_reply_markup,
        "deleteMessage": messages.delete_message,
        "deleteMessages": messages.delete_messages,
        "sendChatAction": messages.send_chat_action,
        "answerCallbackQuery": messages.answer_callback_query,
        "sendMessageDraft": messages.send_message_draft,
    }.items()
}

# Calls after which the webhook sender must start or stop.
WEBHOOK_METHODS = frozenset({"setwebhook", "deletewebhook"})
