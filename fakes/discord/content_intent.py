"""What a bot without the MESSAGE_CONTENT intent (1 << 15) sees of a message, as Discord decides it.

Discord blanks `content`, `embeds`, `attachments` and `components` of every message except: messages in
DMs, the bot's own messages (its interaction responses included), messages that mention the bot, and replies
to one of the bot's messages (pinged or not). Messages of the bot's webhooks are not the bot's own: they are
blanked like anybody's. A `referenced_message` inside the payload follows the same rule on its own.
"""

from __future__ import annotations

from typing import Any

from .world import World

JSON = dict[str, Any]

BLANKED = {"content": "", "embeds": [], "attachments": [], "components": []}


def readable_without_intent(world: World, bot_id: int, data: JSON) -> bool:
    """Whether a bot lacking MESSAGE_CONTENT still gets this message payload's content."""
    bot = str(bot_id)
    if "guild_id" not in data or data.get("author", {}).get("id") == bot:
        return True
    if any(user.get("id") == bot for user in data.get("mentions", [])):
        return True
    reference = data.get("message_reference") or {}
    replied = world.messages.get(int(reference["message_id"])) if reference.get("message_id") else None
    return replied is not None and replied.author_id == bot_id


def as_seen_without_intent(world: World, bot_id: int, data: JSON) -> JSON:
    """The payload with the content fields blanked where Discord blanks them."""
    seen = data if readable_without_intent(world, bot_id, data) else {**data, **BLANKED}
    referenced = data.get("referenced_message")
    if isinstance(referenced, dict):  # built like any message payload: it has its own guild_id
        seen = {**seen, "referenced_message": as_seen_without_intent(world, bot_id, referenced)}
    return seen
