"""Which bots receive a message posted in a chat (group privacy mode and bot-to-bot rules).

Privacy mode on (Telegram's default): in groups a bot receives ``/cmd@its_name``, bare ``/cmd`` only
if it was the last bot to write in the chat (or no bot wrote yet), messages mentioning ``@its_name``,
replies to its own messages and service messages; never ``/cmd@other_bot``.
Privacy off, or the bot is an admin of the chat: everything.
Bots never receive their own messages, nor (without bot-to-bot mode) other bots' messages.
"""

from __future__ import annotations

from .entities import commands_addressed_to, mentioned_usernames
from .world import BotAccount, StoredMessage


def should_deliver(bot: BotAccount, message: StoredMessage) -> bool:
    if message.sender.id == bot.id or message.sender.is_bot:
        return False
    chat = message.chat
    if chat.type == "private":
        return chat.bot_id == bot.id
    if not chat.is_member(bot.id):
        return False
    if not bot.privacy or chat.status_of(bot.id) in ("creator", "administrator") or message.service:
        return True
    return _addressed_to(bot, message)


def _addressed_to(bot: BotAccount, message: StoredMessage) -> bool:
    name = bot.username.lower()
    text, entities = message.text, message.entities
    targets = commands_addressed_to(text, entities)
    if any(target is not None and target.lower() == name for target in targets):
        return True
    last_writer = message.chat.last_bot_sender
    if None in targets and last_writer in (None, bot.id):
        return True
    if name and name in mentioned_usernames(text, entities):
        return True
    reply = message.reply_to
    # in forums the implicit reply to the topic's creation message does not count as a reply
    return reply is not None and reply.sender.id == bot.id and reply.service is None
