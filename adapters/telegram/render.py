"""How replies appear in Telegram: the relay's sink (send / edit / typing) over python-telegram-bot."""

from __future__ import annotations

import html
import re
import warnings
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions, MessageEntity, ReplyParameters
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.relay import NotModified, RateLimited

MAX_SPEAKER = 80  # characters of a speaker's name (an NPC's name has at most 80, like a Discord webhook's)

# Markdown the characters commonly write, rendered as Telegram HTML on the final edit (html mode only).
_CODE_BLOCK = re.compile(r"```(?:[\w+-]*\n)?(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n<]+)`")  # "<" only starts a kept code block (the text is escaped by then)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
# Italics may hold whole bold runs and code but never half of a run (<b><i></b></i> is refused by Telegram).
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)((?:[^*\n<]|<\d+>|<b>(?:[^<]|<\d+>)*?</b>)+?)(?<=\S)\*(?![\w*])")
_STASHED = re.compile(r"<(\d+)>")


def markdown_to_html(text: str) -> str:
    """Escape the text for Telegram's HTML mode and turn **bold**, *italic* and code into tags."""
    stash: list[str] = []

    def keep(tag: str, body: str) -> str:
        stash.append(f"<{tag}>{body}</{tag}>")
        return f"<{len(stash) - 1}>"  # escaped text holds no "<": no text can pass for a kept code span

    text = html.escape(text, quote=False)
    text = _CODE_BLOCK.sub(lambda m: keep("pre", m.group(1)), text)
    text = _INLINE_CODE.sub(lambda m: keep("code", m.group(1)), text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    return _STASHED.sub(lambda m: stash[int(m.group(1))], text)


# PTB 22 warns, from inside RetryAfter's own constructor, that retry_after will become a timedelta. We accept
# both a number and a timedelta, so the warning says nothing to our operators.
warnings.filterwarnings("ignore", message=".*`retry_after` will be of type", category=PTBDeprecationWarning)


def utf16_length(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def speaker_label(speaker: str | None) -> str | None:
    """A speaker's name as it starts each message: one line, at most MAX_SPEAKER characters (a name longer than
    a message must still leave room for the text); None when nothing of it would show."""
    label = " ".join(speaker.split())[:MAX_SPEAKER] if speaker else ""
    return label or None


def plain_message(speaker: str | None, text: str) -> tuple[str, list[MessageEntity] | None]:
    """A message as plain text with entities: "<speaker>: <text>", the name in bold."""
    if speaker is None:
        return text, None
    return f"{speaker}: {text}", [MessageEntity(MessageEntity.BOLD, 0, utf16_length(speaker))]


def html_message(speaker: str | None, text: str) -> str:
    """A message in Telegram's HTML mode: the name in bold, the text's Markdown as tags."""
    name = f"<b>{html.escape(speaker)}</b>: " if speaker else ""
    return name + markdown_to_html(text)


def _seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramReplySink:
    """One reply into one Telegram chat (and forum topic). Handles are message ids.

    With a ``speaker`` (an NPC), every message of the reply starts with "<name>: ", the name in bold: a
    bold entity while streaming (plain text, no parse mode), ``<b>`` in the final HTML edit.
    """

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        thread_id: int | None,
        reply_to: int | None,
        *,
        final_format: str = "plain",
        speaker: str | None = None,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._thread_id = thread_id
        self._reply_to = reply_to
        self._html = final_format == "html"
        self._first = True
        self._speaker = speaker_label(speaker)
        self._prefix = f"{self._speaker}: " if self._speaker else ""

    def _plain(self, text: str) -> tuple[str, list[MessageEntity] | None]:
        return plain_message(self._speaker, text)

    def _html_text(self, text: str) -> str:
        return html_message(self._speaker, text)

    @property
    def destination(self) -> str:
        return f"telegram:{self._chat_id}"

    @property
    def max_length(self) -> int:
        return int(MessageLimit.MAX_TEXT_LENGTH) - len(self._prefix)

    async def send(self, text: str, *, final: bool) -> int:
        reply = None
        if self._reply_to is not None and self._first:
            reply = ReplyParameters(message_id=self._reply_to, allow_sending_without_reply=True)
        message_id = await self._call_send(text, reply, final)
        self._first = False  # continuation parts follow on without quoting again (a retried first part still quotes)
        return message_id

    async def _call_send(self, text: str, reply: ReplyParameters | None, final: bool) -> int:
        try:
            if final and self._html:
                try:
                    sent = await self._bot.send_message(
                        self._chat_id,
                        self._html_text(text),
                        parse_mode=ParseMode.HTML,
                        message_thread_id=self._thread_id,
                        reply_parameters=reply,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
                    return sent.message_id
                except BadRequest as exc:
                    if "can't parse entities" not in exc.message.lower():
                        raise
            shown, entities = self._plain(text)
            sent = await self._bot.send_message(
                self._chat_id,
                shown,
                entities=entities,
                message_thread_id=self._thread_id,
                reply_parameters=reply,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            return sent.message_id
        except RetryAfter as exc:
            raise RateLimited(_seconds(exc)) from exc

    async def edit(self, handle: int, text: str, *, final: bool) -> None:
        try:
            if final and self._html:
                try:
                    await self._bot.edit_message_text(
                        self._html_text(text),
                        self._chat_id,
                        handle,
                        parse_mode=ParseMode.HTML,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
                    return
                except BadRequest as exc:
                    if "can't parse entities" not in exc.message.lower():
                        raise
            shown, entities = self._plain(text)
            await self._bot.edit_message_text(
                shown,
                self._chat_id,
                handle,
                entities=entities,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            raise RateLimited(_seconds(exc)) from exc
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                raise NotModified() from exc
            raise

    async def typing(self) -> None:
        try:
            await self._bot.send_chat_action(self._chat_id, ChatAction.TYPING, message_thread_id=self._thread_id)
        except RetryAfter as exc:
            raise RateLimited(_seconds(exc)) from exc
