"""Telegram's normaliser under arbitrary messages: Bot API JSON parsed by the real python-telegram-bot.

A message is built from segments (hostile text, commands, mentions of the bot and of others) with entities
exactly on some of them, as Telegram sets them; "wild" examples add entities of any type, offset and length
(UTF-16, possibly past the text or through the middle of an emoji). Exact oracles hold for the former; the
properties that must hold whatever a server sends hold for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from telegram import Update

from adapters.telegram.normalize import BotIdentity, normalize_message
from bot.door import is_addressed
from bot.models import ChatRequest
from bot.text import clean_text, is_blank
from tests.properties.strategies import PROPERTY, all_strings, encodable, hostile_text, utf16_length

ME = BotIdentity(id=999, username="CharBot")
OTHER_BOT = {"id": 555, "is_bot": True, "first_name": "Other", "username": "OtherBot"}
BOT_USER = {"id": ME.id, "is_bot": True, "first_name": "Char", "username": "CharBot"}
COMMANDS = ["/chat", "/start", "/reset", "/Chat", "/npc", "/x"]
ADDRESSEES = ["", "@CharBot", "@charbot", "@OtherBot"]
BOT_MENTIONS = ["@CharBot", "@charbot", "@CHARBOT"]
OTHER_MENTIONS = ["@OtherBot", "@CharBotty", "@Char"]
ENTITY_TYPES = ["mention", "text_mention", "bot_command", "hashtag", "url", "bold", "code", "email"]


@dataclass
class Segment:
    text: str
    entity: str | None = None  # the entity Telegram sets exactly on it
    removed: bool = False  # the normaliser takes it out of the text (the command, the bot's mentions)


@dataclass
class Payload:
    body: dict[str, Any]
    segments: list[Segment]
    wild: bool  # entities anywhere, of any length
    other_bot: bool  # the command names another bot


users = st.builds(
    lambda uid, first, last: {"id": uid, "is_bot": False, "first_name": first, **({"last_name": last} if last else {})},
    st.integers(1, 2**40),
    hostile_text(max_size=64).map(lambda name: name or "Ann"),  # Telegram: 1-64 characters
    st.one_of(st.none(), hostile_text(max_size=64)),
)


@st.composite
def segments(draw: Any) -> tuple[list[Segment], bool]:
    found: list[Segment] = []
    other_bot = False
    if draw(st.booleans()):
        command = draw(st.sampled_from(COMMANDS)) + draw(st.sampled_from(ADDRESSEES))
        other_bot = command.endswith("@OtherBot")
        found.append(Segment(command, "bot_command", removed=True))
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["text", "text", "bot", "other", "text_mention"]))
        if kind == "text":
            found.append(Segment(draw(hostile_text(extra=[*BOT_MENTIONS, *OTHER_MENTIONS, "/chat"], max_size=3000))))
        elif kind == "bot":
            tagged = draw(st.booleans())
            found.append(Segment(draw(st.sampled_from(BOT_MENTIONS)), "mention" if tagged else None, removed=tagged))
        elif kind == "other":
            found.append(Segment(draw(st.sampled_from(OTHER_MENTIONS)), "mention"))
        else:
            found.append(Segment(draw(st.sampled_from(["Char Bot", "Char"])), "text_mention", removed=True))
        if draw(st.booleans()):
            found.append(Segment(draw(st.sampled_from([" ", "  ", "\n", " \u200b "]))))
    return found, other_bot


def entities_of(found: list[Segment]) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    offset = 0
    for segment in found:
        length = utf16_length(segment.text)
        if segment.entity == "text_mention":
            entities.append({"type": "text_mention", "offset": offset, "length": length, "user": BOT_USER})
        elif segment.entity is not None:
            entities.append({"type": segment.entity, "offset": offset, "length": length})
        offset += length
    return entities


wild_entities = st.lists(
    st.builds(
        lambda kind, offset, length, user: {"type": kind, "offset": offset, "length": length}
        | ({"user": user} if kind == "text_mention" else {}),
        st.sampled_from(ENTITY_TYPES),
        st.integers(-3, 12_000),
        st.integers(-2, 12_000),
        st.sampled_from([BOT_USER, OTHER_BOT]),
    ),
    max_size=6,
)

chats = st.sampled_from(
    [
        {"id": -100123, "type": "supergroup", "title": "Tavern"},
        {"id": -42, "type": "group", "title": "Old group"},
        {"id": -100777, "type": "supergroup", "title": "Forum", "is_forum": True},
        "private",
    ]
)


@st.composite
def payloads(draw: Any) -> Payload:
    sender = draw(st.one_of(users, st.just(OTHER_BOT), st.none()))
    chat = draw(chats)
    if chat == "private":
        chat = {"id": (sender or {"id": 7})["id"], "type": "private", "first_name": "Ann"}
    found, other_bot = draw(segments())
    text = "".join(segment.text for segment in found)
    entities = entities_of(found)
    wild = draw(st.integers(0, 3)) == 0
    if wild:
        entities = draw(st.permutations(entities + draw(wild_entities)))
    body: dict[str, Any] = {"message_id": draw(st.integers(1, 2**31)), "date": 1700000000, "chat": chat}
    if sender is not None:
        body["from"] = sender
    where = draw(st.sampled_from(["text", "text", "text", "caption", "none"]))
    if where == "text":
        body["text"] = text
        if entities:
            body["entities"] = entities
    elif where == "caption":
        body["caption"] = text
        body["photo"] = [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]
        if entities:
            body["caption_entities"] = entities
    replied = draw(st.sampled_from(["none", "bot", "person", "topic", "channel"]))
    if replied != "none":
        reply: dict[str, Any] = {"message_id": draw(st.integers(1, 2**31)), "date": 1700000000, "chat": chat}
        if replied == "bot":
            reply.update({"from": BOT_USER, "text": "hi"})
        elif replied == "person":
            reply.update({"from": draw(users), "text": draw(hostile_text(max_size=50))})
        elif replied == "topic":
            reply.update({"from": draw(users), "forum_topic_created": {"name": "Quest", "icon_color": 7322096}})
        body["reply_to_message"] = reply
    if draw(st.booleans()):
        body.update(message_thread_id=draw(st.integers(1, 2**31)), is_topic_message=draw(st.booleans()))
    return Payload(body, found, wild, other_bot)


def normalize(body: dict[str, Any]) -> ChatRequest | None:
    note(f"message: {body!r}")
    update = Update.de_json({"update_id": 1, "message": body}, None)
    assert update is not None and update.message is not None
    return normalize_message(update.message, ME)


def without_removed(found: list[Segment]) -> str:
    """The message text (cleaned) with the command and the bot's mentions taken out, cut in UTF-16 units so
    that cleaning (which keeps UTF-16 lengths) cannot shift the cuts."""
    units = clean_text("".join(segment.text for segment in found)).encode("utf-16-le")
    kept, offset = b"", 0
    for segment in found:
        length = utf16_length(segment.text) * 2
        if not segment.removed:
            kept += units[offset : offset + length]
        offset += length
    return kept.decode("utf-16-le")


def entity_windows(body: dict[str, Any], kind: str) -> list[str]:
    """What each entity of ``kind`` covers, read leniently (a window through a surrogate pair still shows)."""
    text = body.get("text", "")
    units = text.encode("utf-16-le", "surrogatepass")
    return [
        units[max(e["offset"], 0) * 2 : (e["offset"] + e["length"]) * 2].decode("utf-16-le", "replace")
        for e in body.get("entities", [])
        if e["type"] == kind and e["length"] > 0
    ]


@PROPERTY
@given(payloads())
def test_any_message_normalises_to_clean_platform_qualified_ids(payload: Payload) -> None:
    body = payload.body
    request = normalize(body)
    sender, chat = body.get("from"), body["chat"]
    if request is None:
        has_text = "text" in body or "caption" in body
        assert sender is None or sender["is_bot"] or not has_text or "bot_command" in str(body.get("entities"))
        return
    assert sender is not None and not sender["is_bot"]
    assert all(encodable(s) for s in all_strings(request.model_dump()))
    assert request.platform == "telegram" and request.target.platform == "telegram"
    assert request.conversation_id == f"telegram:{chat['id']}" and request.target.chat == str(chat["id"])
    assert request.user_id == f"telegram:{sender['id']}"
    assert request.message_id == f"telegram:{chat['id']}:{body['message_id']}"
    assert request.is_dm == (chat["type"] == "private")
    reply = body.get("reply_to_message")
    real_reply = reply is not None and "forum_topic_created" not in reply
    assert request.reply_to_id == (f"telegram:{chat['id']}:{reply['message_id']}" if real_reply else None)
    assert request.reply_to_bot == (real_reply and reply.get("from", {}).get("id") == ME.id)
    if request.thread_id is not None:
        assert body.get("is_topic_message") and request.thread_id == str(body["message_thread_id"])


@PROPERTY
@given(payloads())
def test_never_addressed_to_the_bot_unless_the_message_says_so(payload: Payload) -> None:
    body = payload.body
    request = normalize(body)
    if request is None:
        return
    mentioned = any("@charbot" in window.lower() for window in entity_windows(body, "mention")) or any(
        e["type"] == "text_mention" and e.get("user", {}).get("id") == ME.id and e["length"] > 0
        for e in body.get("entities", [])
    )
    commanded = any(e["type"] == "bot_command" and e["offset"] == 0 for e in body.get("entities", []))
    assert not request.mentions_bot or mentioned
    assert request.command is None or commanded
    if request.command is not None:
        assert clean_text(body["text"]).lower().startswith("/" + request.command)
    if is_addressed(request, trigger="mention"):
        assert request.is_dm or mentioned or request.reply_to_bot or commanded


@PROPERTY
@given(payloads().filter(lambda p: not p.wild))
def test_commands_and_mentions_are_read_from_their_entities(payload: Payload) -> None:
    body = payload.body
    request = normalize(body)
    if body.get("from") is None or body["from"]["is_bot"] or ("text" not in body and "caption" not in body):
        assert request is None
        return
    if "caption" in body:  # entities of captions are not read: the caption is the text as it is
        assert request is not None and request.command is None and not request.mentions_bot
        cleaned = clean_text(body["caption"])
        assert request.text == ("" if is_blank(cleaned) else cleaned)
        return
    found = payload.segments
    if payload.other_bot:
        assert request is None
        return
    assert request is not None
    command = found[0].text if found and found[0].entity == "bot_command" else None
    expected_command = command[1:].partition("@")[0].lower() if command else None
    assert request.command == expected_command
    assert request.mentions_bot == any(s.removed and s.entity != "bot_command" for s in found)
    expected = without_removed(found)
    if is_blank(expected):
        assert request.text == ""
    elif not any(segment.removed for segment in found):
        assert request.text == expected  # nothing taken out: the text exactly as written
    else:
        assert request.text.split() == expected.split()
