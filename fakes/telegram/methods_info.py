"""Bot API methods about the bot itself, chats and members, commands, updates and webhooks."""

from __future__ import annotations

import re
from typing import Any

from .api_call import ApiCall
from .errors import CONFLICT_WEBHOOK, ApiError, bad_request
from .world import Chat, User, Webhook, scope_key

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SCOPE_TYPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})


async def get_me(call: ApiCall) -> Any:
    return call.bot.get_me()


async def log_out_or_close(call: ApiCall) -> Any:
    return True


async def get_chat(call: ApiCall) -> Any:
    return call.chat(sending=False).to_full_info()


def member_json(chat: Chat, user: User) -> dict[str, Any]:
    status = chat.status_of(user.id)
    data: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True,
            can_manage_video_chats=True, can_restrict_members=True, can_promote_members=False,
            can_change_info=True, can_invite_users=True, can_post_stories=True, can_edit_stories=True,
            can_delete_stories=True, can_pin_messages=True,
        )
        if chat.is_forum:
            data["can_manage_topics"] = True
    elif status == "kicked":
        data["until_date"] = 0
    return data


async def get_chat_member(call: ApiCall) -> Any:
    chat = call.chat(sending=False)
    user = call.fake.world.users.get(call.params.required_int("user_id"))
    if user is None:
        raise bad_request("user not found")
    return member_json(chat, user)


async def get_chat_administrators(call: ApiCall) -> Any:
    chat = call.chat(sending=False)
    users = call.fake.world.users
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [
        member_json(chat, users[user_id])
        for user_id, status in chat.members.items()
        if status in ("creator", "administrator") and user_id in users
    ]


async def get_chat_member_count(call: ApiCall) -> Any:
    chat = call.chat(sending=False)
    return sum(1 for user_id in chat.members if chat.is_member(user_id))


def _scope(call: ApiCall) -> tuple[str, str]:
    scope = call.params.json_value("scope")
    if scope is not None and (not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES):
        raise bad_request("unsupported bot command scope type")
    return scope_key(scope), call.params.string("language_code") or ""


async def set_my_commands(call: ApiCall) -> Any:
    commands = call.params.json_value("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    cleaned: list[dict[str, Any]] = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND_NAME.fullmatch(str(item.get("command", "")).lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(item.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": str(item["command"]).lower(), "description": description})
    call.bot.commands[_scope(call)] = cleaned
    return True


async def get_my_commands(call: ApiCall) -> Any:
    return call.bot.commands.get(_scope(call), [])


async def delete_my_commands(call: ApiCall) -> Any:
    call.bot.commands.pop(_scope(call), None)
    return True


async def get_updates(call: ApiCall) -> Any:
    if call.bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    params = call.params
    allowed = params.json_value("allowed_updates")
    limit = min(max(params.integer("limit", 100) or 100, 1), 100)
    return await call.bot.queue.poll(
        offset=params.integer("offset", 0) or 0,
        limit=limit,
        wait_seconds=params.number("timeout", 0.0) or 0.0,
        allowed_updates=allowed if isinstance(allowed, list) else None,
        is_alive=call.is_alive or (lambda: True),
    )


async def set_webhook(call: ApiCall) -> Any:
    params, bot = call.params, call.bot
    url = params.string("url") or ""
    if params.flag("drop_pending_updates"):
        bot.queue.drop_pending()
    if not url:
        bot.webhook = None
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.string("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.json_value("allowed_updates")
    if isinstance(allowed, list):
        bot.queue.allowed_updates = allowed
    bot.webhook = Webhook(url, secret, params.integer("max_connections", 40) or 40,
                          allowed if isinstance(allowed, list) else None)
    return True


async def delete_webhook(call: ApiCall) -> Any:
    if call.params.flag("drop_pending_updates"):
        call.bot.queue.drop_pending()
    call.bot.webhook = None
    return True


async def get_webhook_info(call: ApiCall) -> Any:
    webhook, queue = call.bot.webhook, call.bot.queue
    info: dict[str, Any] = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(queue.pending),
    }
    if webhook is not None:
        info["max_connections"] = webhook.max_connections
        if webhook.allowed_updates is not None:
            info["allowed_updates"] = webhook.allowed_updates
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
    return info
