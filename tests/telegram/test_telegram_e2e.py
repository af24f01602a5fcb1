"""Telegram end to end: real python-telegram-bot, the fake Bot API (with flood control), our Character.AI
client against the fake Character.AI."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

from bot.models import Binding
from bot.store.redis import RedisStateStore
from charbridge.app import SQLITE_FILE
from fakes.telegram.world import StoredMessage
from tests.telegram.conftest import CHARACTERS, QUIET, TelegramWorld, close_world, open_world

ADA = CHARACTERS[0]
REX = CHARACTERS[1]


def assert_grew_to(message: StoredMessage, final: str) -> None:
    """Every version of the message is a prefix of the final text, each longer than the one before."""
    texts = [version.text for version in message.versions]
    assert texts[-1] == final
    assert all(final.startswith(text) for text in texts)
    assert all(len(a) < len(b) for a, b in itertools.pairwise(texts)), "an edit repeated or shrank"


async def test_private_chat_gets_one_streamed_message_with_the_exact_reply(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    expected = "Hello Ann." + " The archive keeps every story, every footnote and every margin note." * 6
    world.cai.script_reply("ada", expected)
    tg.user_sends(chat, ann, "hi there")

    reply = await tg.wait_for_bot_message(chat, expected, timeout=15)
    await tg.wait_idle(chat, quiet=QUIET, timeout=10)
    assert [m.message_id for m in tg.bot_messages(chat)] == [reply.message_id]
    assert len(reply.versions) >= 3, "the reply should have grown through edits"
    assert_grew_to(reply, expected)
    assert tg.counters().too_many_requests == 0


async def test_reply_text_follows_the_character(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    tg.user_sends(chat, ann, "what should I read?")
    await tg.wait_for_bot_message(chat, ADA.reply_to("what should I read?"), timeout=15)


async def test_group_answers_only_mentions_replies_and_commands(world: TelegramWorld) -> None:
    tg = world.telegram
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    group = tg.add_group("Tavern", members=[ann, bob], bots=["CharBot"], supergroup=True)
    tg.set_privacy("CharBot", False)  # the bot sees everything; it must still pick what to answer

    tg.user_sends(group, ann, "just chatting with Bob")
    tg.user_sends(group, bob, "@CharBot who are you?")
    first = await tg.wait_for_bot_message(group, ADA.reply_to("who are you?"), timeout=15)
    tg.user_sends(group, ann, "tell me more", reply_to=first)
    await tg.wait_for_bot_message(group, ADA.reply_to("tell me more"), timeout=15)
    tg.user_sends(group, bob, "/chat@CharBot a story please")
    await tg.wait_for_bot_message(group, ADA.reply_to("a story please"), timeout=15)
    tg.user_sends(group, bob, "ok thanks all")
    await tg.wait_idle(group, quiet=QUIET, timeout=10)

    finals = [m.text for m in tg.bot_messages(group)]
    assert finals == [ADA.reply_to(t) for t in ("who are you?", "tell me more", "a story please")]
    sent_upstream = str([received.frame for received in world.cai.received("dm", "create_and_generate_turn")])
    assert "who are you?" in sent_upstream
    assert "just chatting with Bob" not in sent_upstream and "ok thanks all" not in sent_upstream


async def test_five_long_replies_at_once_in_one_group_cause_no_penalty(world: TelegramWorld) -> None:
    tg = world.telegram
    users = [tg.add_user(f"User{i}") for i in range(5)]
    group = tg.add_group("Crowd", members=users, bots=["CharBot"], supergroup=True)
    await world.core.store.put_binding(
        Binding(conversation=f"telegram:{group.id}", preset="rex-per-user", bound_by="telegram:1")
    )
    # the characters' own chunk size wins over the fake's setting, so the character is given a coarser one
    world.cai.add_character(CHARACTERS[1].model_copy(update={"chunk_chars": 12}))
    texts = [f"@CharBot tell me tale number {i} " + "and make it long " * 20 for i in range(5)]
    for user, text in zip(users, texts, strict=True):
        tg.user_sends(group, user, text)
    expected = [REX.reply_to(text.removeprefix("@CharBot ").strip()) for text in texts]

    for final in expected:
        await tg.wait_for_bot_message(group, final, timeout=60)
    await tg.wait_idle(group, quiet=QUIET, timeout=10)
    counters = tg.counters()
    assert counters.penalties == 0 and counters.too_many_requests == 0
    assert sorted(m.text for m in tg.bot_messages(group)) == sorted(expected)


async def test_a_10000_character_reply_arrives_as_three_messages_that_join_exactly(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    rng = random.Random(3)
    words = ["tide", "lantern", "map", "storm", "harbour", "gull", "rope", "compass"]
    paragraphs = []
    while sum(len(p) + 2 for p in paragraphs) < 10_000:
        sentences = [" ".join(rng.choices(words, k=rng.randint(4, 12))).capitalize() + "." for _ in range(5)]
        paragraphs.append(" ".join(sentences))
    long_reply = "\n\n".join(paragraphs)[:10_000].rstrip() + "."
    world.cai.script_reply("ada", long_reply)
    world.cai.add_character(CHARACTERS[0].model_copy(update={"chunk_chars": 400}))
    tg.user_sends(chat, ann, "a very long answer please")

    def parts_join_to_the_reply() -> list[str] | None:
        # Telegram strips whitespace around every message, so the parts are split at whitespace and the
        # whitespace at each split point is the only thing not shown; every other character is there, in order.
        parts = [m.text for m in tg.bot_messages(chat)]
        pattern = r"\s+".join(re.escape(part) for part in parts)
        return parts if parts and re.fullmatch(pattern, long_reply) else None

    parts = await tg.wait_for(parts_join_to_the_reply, timeout=120)
    assert len(parts) == 3
    assert all(len(part) <= 4096 for part in parts)


async def test_final_texts_arrive_through_a_429_storm_without_penalties(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    tg.storm(chat, duration=6, probability=0.5, retry_after=2, seed=7)
    expected = "Storms pass." + " Every word still arrives in the end." * 5
    world.cai.script_reply("ada", expected)
    asked = tg.user_sends(chat, ann, "are you there?")

    reply = await tg.wait_for_bot_message(chat, expected, timeout=30)
    assert reply.reply_to is not None and reply.reply_to.message_id == asked.message_id, "a retried send lost its quote"
    counters = tg.counters()
    assert counters.too_many_requests > 0, "the storm should have hit at least once"
    assert counters.penalties == 0, "a call landed before retry_after elapsed"


async def test_commands_are_registered_for_private_chats_and_groups(world: TelegramWorld) -> None:
    tg = world.telegram
    for scope in ({"type": "all_private_chats"}, {"type": "all_group_chats"}):
        names = [c["command"] for c in tg.commands("CharBot", scope)]
        assert {"start", "help", "chat", "reset", "regenerate", "status"} <= set(names)


async def test_start_reset_regenerate_and_status(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    tg.user_sends(chat, ann, "/start")
    await tg.wait_for_bot_message(chat, ADA.greeting, timeout=10)

    tg.user_sends(chat, ann, "first question")
    await tg.wait_for_bot_message(chat, ADA.reply_to("first question"), timeout=15)
    chat_before = await world.core.store.get_chat_id(f"telegram:{chat.id}", "*")

    tg.user_sends(chat, ann, "/regenerate")
    await tg.wait_for_bot_message(chat, ADA.reply_to("first question", 1), timeout=15)

    tg.user_sends(chat, ann, "/status")
    status = await tg.wait_for(
        lambda: next((m for m in tg.bot_messages(chat) if m.text.startswith("Character: ada")), None), timeout=10
    )
    assert chat_before is not None and chat_before in status.text

    tg.user_sends(chat, ann, "/reset")
    await tg.wait_for(lambda: any(m.text.startswith("New conversation") for m in tg.bot_messages(chat)), timeout=10)
    chat_after = await world.core.store.get_chat_id(f"telegram:{chat.id}", "*")
    assert chat_after is not None and chat_after != chat_before


async def test_an_upstream_error_ends_the_reply_with_a_clear_message(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    world.cai.inject("neo_error", target="dm", comment="internal trouble", error_code=500)
    tg.user_sends(chat, ann, "hello?")
    message = await tg.wait_for(lambda: next(iter(tg.bot_messages(chat)), None), timeout=15)
    await tg.wait_idle(chat, quiet=QUIET, timeout=10)
    assert "unavailable" in message.text.lower() or "try again" in message.text.lower()
    assert "internal trouble" not in message.text
    actions_after = [a for a in tg.chat_action_log if a.chat_id == chat.id and a.t > message.versions[-1].t]
    assert actions_after == [], "typing went on after the reply ended"


async def test_forum_topics_are_separate_conversations(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    forum = tg.add_group("Guild", members=[ann], bots=["CharBot"], forum=True)
    quests = tg.create_topic(forum, "Quests", ann)
    lore = tg.create_topic(forum, "Lore", ann)
    tg.user_sends(forum, ann, "@CharBot quest?", thread_id=quests)
    tg.user_sends(forum, ann, "@CharBot lore?", thread_id=lore)
    in_quests = await tg.wait_for_bot_message(forum, ADA.reply_to("quest?"), timeout=15)
    in_lore = await tg.wait_for_bot_message(forum, ADA.reply_to("lore?"), timeout=15)
    assert (in_quests.thread_id, in_lore.thread_id) == (quests, lore)
    chats = {await world.core.store.get_chat_id(f"telegram:{forum.id}/{t}", "*") for t in (quests, lore)}
    assert None not in chats and len(chats) == 2


async def test_one_message_is_answered_once_even_under_load(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    for i in range(3):
        tg.user_sends(chat, ann, f"message {i}")
    for i in range(3):
        await tg.wait_for_bot_message(chat, ADA.reply_to(f"message {i}"), timeout=20)
    await tg.wait_idle(chat, quiet=QUIET, timeout=10)
    assert len(tg.bot_messages(chat)) == 3


async def test_the_bridge_runs_the_same_on_the_redis_store(tmp_path: Path, redis_url: str) -> None:
    """The whole bridge with its state in a real redis-server: a reply, and its upstream chat kept there."""
    world = await open_world(tmp_path, storage={"redis_url": redis_url, "key_prefix": "e2e:"})
    try:
        assert isinstance(world.core.store, RedisStateStore)
        tg = world.telegram
        ann = tg.add_user("Ann")
        chat = tg.private_chat(ann)
        tg.user_sends(chat, ann, "hello redis")
        await tg.wait_for_bot_message(chat, ADA.reply_to("hello redis"), timeout=15)
        await world.restart_bridge()
        tg.user_sends(chat, ann, "still here?")
        await tg.wait_for_bot_message(chat, ADA.reply_to("still here?"), timeout=15)
        chat_id = await world.core.store.get_chat_id(f"telegram:{chat.id}", "*")
        assert chat_id is not None and "hello redis" in str(world.cai.chat(chat_id))
        assert not (tmp_path / SQLITE_FILE).exists()
    finally:
        await close_world(world)
