"""What the sandbox shows of the fake Discord: the bridge's messages with the author Discord displays, and
the fake's counters.

The bridge writes three ways: as the bot (DMs, channels without a webhook), through the channel's webhook
under a character's name, and as answers to slash commands (the original response, edited as it grows, and
follow-ups), some of which only the user who ran the command sees.
"""

from __future__ import annotations

from fakes.discord import Channel, FakeDiscord, StoredMessage
from sandbox.platform import BotMessage

EPHEMERAL = 1 << 6  # message flag: only the user who ran the slash command sees it
THINKING = "(thinking…)"  # how Discord shows a deferred slash command answer before its first text


class DiscordView:
    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self._labels: dict[int, str] = {}  # message id -> its author line, fixed once posted

    def _from_bridge(self, message: StoredMessage) -> bool:
        return message.author_id == self._fake.bot.id or message.webhook_id is not None

    def _label(self, message: StoredMessage) -> str:
        label = self._labels.get(message.id)
        if label is None:
            author = self._fake.message_view(message).author_name
            if message.flags & EPHEMERAL:
                label = f"{author} (only you)"
            elif message.webhook_id is not None and message.interaction_id is None:
                label = f"{author} (webhook)"
            else:
                label = f"{author} (bot)"
            self._labels[message.id] = label
        return label

    def bot_messages(self, channel: Channel) -> list[BotMessage]:
        found = []
        for message in self._fake.messages_in(channel):
            if not self._from_bridge(message):
                continue
            loading = message.interaction_id is not None
            texts = tuple(v.content or (THINKING if loading else "") for v in message.versions)
            found.append(BotMessage(f"discord:{message.id}", texts, self._label(message)))
        return found

    def latest_reply_target(self, channel: Channel) -> StoredMessage | None:
        """The bot's or a character's latest message that everybody sees (what ``:reply`` answers)."""
        mine = [m for m in self._fake.messages_in(channel) if self._from_bridge(m) and not m.flags & EPHEMERAL]
        return mine[-1] if mine else None

    def last_bot_activity(self) -> float:
        """Monotonic time of the bot's latest REST request (posts, edits, typing, webhooks, answers)."""
        requests = self._fake.requests
        return requests[-1].at if requests else 0.0

    def counters(self) -> list[str]:
        fake = self._fake
        counters = fake.counters()
        written = [m for m in fake.world.messages.values() if self._from_bridge(m)]
        own = sum(1 for m in written if m.webhook_id is None)
        characters = sum(1 for m in written if m.webhook_id is not None and m.interaction_id is None)
        records = fake.interactions.records.values()
        answers = sum(1 for r in records if r.original_message_id is not None)
        followups = sum(len(r.followup_ids) for r in records)
        edits = sum(len(m.versions) - 1 for m in written)
        return [
            f"discord: {own} messages by the bot, {characters} by characters through webhooks, {answers} slash "
            f"command answers and {followups} follow-ups, {edits} edits, {counters.typing} typing indicators, "
            f"{counters.requests} REST requests in all",
            f"discord: {counters.rate_limited} answered 429 Too Many Requests, {counters.penalties} penalties "
            f"(requests made before retry_after elapsed), {counters.client_errors} other 4xx errors",
        ]
