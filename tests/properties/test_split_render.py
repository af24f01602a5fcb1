"""The splitter and the renderers' formatting under arbitrary text.

Limits: Telegram counts a message's 4096 in code points after entity parsing (the fake Telegram's texts.py,
measured on the real service; only entity offsets are UTF-16), Discord counts its 2000 in characters, and
``bot.relay.split`` counts with ``len``, so the parts are checked with ``len`` too. Telegram's HTML and Discord's
webhook names are checked with the fakes' own rules (the HTML parser that answers "can't parse entities", the
webhook name validation), which are as strict as the services.
"""

from __future__ import annotations

import itertools
from typing import Any

import discord
from hypothesis import example, given, note
from hypothesis import strategies as st
from telegram.constants import MessageLimit

from adapters.discord.render import MAX_CONTENT, ChannelSink, Persona
from adapters.telegram.render import html_message, markdown_to_html, plain_message, speaker_label
from bot.relay import plan_split, split_text
from fakes.discord.rest_webhooks import validate_webhook_name
from fakes.discord.wire import DiscordError
from fakes.telegram.errors import ApiError as TelegramError
from fakes.telegram.markup import parse_text
from tests.properties.strategies import PROPERTY, hostile_text, utf16_length

TELEGRAM = int(MessageLimit.MAX_TEXT_LENGTH)
MARKDOWN = ["```", "```python\n", "\n```\n", "~~~\n", "````", "**", "*", "`", "_", "\n\n", ". ", "x" * 300, " " * 120]


def valid(text: str) -> str:
    """Replies and speaker names come from the core, whose strings are valid Unicode (no lone surrogates)."""
    return text.encode("utf-8", "replace").decode()


valid_unicode = hostile_text(extra=MARKDOWN).map(valid)
max_lengths = st.one_of(st.integers(1, 40), st.integers(16, 5000), st.sampled_from([2000, TELEGRAM]))
names = st.one_of(
    hostile_text(max_size=120).map(valid),
    st.lists(st.sampled_from(["discord", "discor", "iscord", "d", "clyde", "clyd", "e", "DISCORD", "Clyde", " "]))
    .map(lambda words: "".join(words) * 3),
    st.builds(lambda piece, times: piece * times, st.sampled_from(["N", "*", "_ ", "名"]), st.integers(1, 5000)),
)


def check_tiling(text: str, max_length: int) -> None:
    parts = plan_split(text, max_length)
    assert (parts == []) == (text == "")
    position = 0
    for part in parts:
        assert 0 < len(part.text) <= max_length
        assert part.start == position < part.end
        assert part.text == part.prefix + text[part.start : part.end] + part.suffix
        position = part.end
    assert position == len(text)
    if not any(part.prefix or part.suffix for part in parts):  # no code fence was cut
        assert "".join(split_text(text, max_length)) == text
    for earlier, later in itertools.pairwise(parts):
        # the separator stays with the earlier part: the next one starts with whitespace only when the run did
        # not fit in the earlier part, which is then full
        if text[later.start].isspace():
            assert len(earlier.text) == max_length


@PROPERTY
@given(valid_unicode | hostile_text(), max_lengths)
def test_parts_fit_and_rejoin_to_the_text(text: str, max_length: int) -> None:
    note(f"text: {text!r}, max_length: {max_length}")
    check_tiling(text, max_length)


@PROPERTY
@given(valid_unicode, st.one_of(st.none(), names))
def test_telegram_messages_stay_within_4096_and_parse(text: str, speaker: Any) -> None:
    label = speaker_label(speaker)
    note(f"text: {text!r}, speaker: {speaker!r}, label: {label!r}")
    room = TELEGRAM - (len(label) + 2 if label else 0)
    assert room >= 1  # the splitter needs room for at least one character
    for part in split_text(text, room):
        shown, entities = plain_message(label, part)
        assert len(shown) <= TELEGRAM
        for entity in entities or ():
            assert entity.length > 0 and entity.offset + entity.length <= utf16_length(shown)
        try:
            visible, _ = parse_text(html_message(label, part), "HTML")  # Telegram's HTML rules
        except TelegramError as exc:
            raise AssertionError(f"Telegram refuses the final HTML: {exc}") from None
        assert len(visible) <= TELEGRAM


# Markup soup: markers, words, control characters and digits, densely mixed.
markup_soup = st.lists(
    st.sampled_from(["**", "*", "`", "```", "```py\n", "a", "b c", " ", "\n", "\x00", "0", "7", "<", "&", "_"]),
    max_size=30,
).map("".join)


@PROPERTY
@given(st.one_of(valid_unicode, markup_soup))
@example("\x000\x00")  # (found by reading: what the converter's own placeholders look like)
@example("`code` then \x000\x00 and \x001\x00")
def test_markdown_to_html_keeps_text_without_markup_exactly(text: str) -> None:
    note(f"text: {text!r}")
    html_text = markdown_to_html(text)
    note(f"html: {html_text!r}")
    visible, _ = parse_text(html_text, "HTML")
    if "*" not in text and "`" not in text:
        assert visible == text
    assert len(visible) <= len(text)


@PROPERTY
@given(valid_unicode, st.one_of(st.none(), names))
def test_discord_messages_stay_within_2000(text: str, name: Any) -> None:
    prefix = Persona(name=name).bold_name
    note(f"text: {text!r}, name: {name!r}, prefix: {prefix!r}")
    sink = ChannelSink(discord.Object(id=1), prefix=prefix)  # type: ignore[arg-type]  # max_length reads no channel
    assert sink.max_length >= 1
    parts = split_text(text, sink.max_length)
    assert all(len(prefix + part) <= MAX_CONTENT for part in parts[:1])  # the first part carries the name
    assert all(len(part) <= MAX_CONTENT for part in parts)


@PROPERTY
@given(names)
def test_webhook_names_are_ones_discord_accepts(name: str) -> None:
    shown = Persona(name=name).webhook_name
    note(f"name: {name!r}, webhook name: {shown!r}")
    if shown is None:
        assert not name.strip()
        return
    try:
        validate_webhook_name(shown, "username")
    except DiscordError as exc:
        raise AssertionError(f"Discord refuses the webhook name {shown!r}: {exc}") from None
