"""The fake Telegram Bot API against the REAL python-telegram-bot 22 over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommandScopeAllGroupChats,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from fakes.telegram import FakeTelegram
from fakes.telegram.webhook import SECRET_HEADER

TOKEN = "123:TEST"
BOT_NAME = "CharBridgeBot"


def direct_request() -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"trust_env": False})


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(time_scale=0.01)
    fake.add_bot(TOKEN, BOT_NAME, "CharBridge")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, request=direct_request(),
                   get_updates_request=direct_request()) as bot:
        yield bot


async def started_app(fake: FakeTelegram, *handlers: object) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder().token(TOKEN).base_url(fake.base_url).request(direct_request())
        .get_updates_request(direct_request()).concurrent_updates(True).build()
    )
    for handler in handlers:
        app.add_handler(handler)  # type: ignore[arg-type]
    await app.initialize()
    await app.updater.start_polling(timeout=1, poll_interval=0)  # type: ignore[union-attr]
    await app.start()
    return app


async def stop_app(app: Application) -> None:  # type: ignore[type-arg]
    await app.updater.stop()  # type: ignore[union-attr]
    await app.stop()
    await app.shutdown()


async def test_get_me_identifies_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123, BOT_NAME, True)
    assert me.can_read_all_group_messages is False


async def test_unknown_token_is_invalid(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url, request=direct_request()):
            pass


async def test_answers_exact_json_content_type_for_every_encoding(fake: FakeTelegram) -> None:
    alice = fake.add_user("Alice", "alice")
    fake.private_chat(alice, started=True)
    url = f"{fake.base_url}{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": alice.id, "text": "json"}) as reply:
            assert reply.headers["Content-Type"] == "application/json"
            assert (await reply.json())["result"]["text"] == "json"
        async with session.get(url, params={"chat_id": str(alice.id), "text": "query"}) as reply:
            assert (await reply.json())["result"]["text"] == "query"
        form = aiohttp.FormData({"chat_id": str(alice.id), "text": "multipart"})
        form.add_field("document", b"abc", filename="a.txt")
        async with session.post(url, data=form) as reply:
            assert (await reply.json())["result"]["text"] == "multipart"
        async with session.post(f"{fake.base_url}{TOKEN}/noSuchMethod") as reply:
            assert reply.status == 404
            assert reply.headers["Content-Type"] == "application/json"
    assert [m.text for m in fake.bot_messages(fake.private_chat(alice))] == ["json", "query", "multipart"]


async def test_polling_delivers_commands_with_bot_name_and_streamed_reply_is_final(fake: FakeTelegram) -> None:
    fake.configure_flood(enabled=False)  # the handler edits as fast as it can; flood control is tested elsewhere
    alice = fake.add_user("Alice", "alice")
    chat = fake.private_chat(alice)
    seen_args: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen_args.append(list(context.args or []))

    async def stream(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        sent = await update.message.reply_text("Thinking")
        for text in ("Hello", "Hello there", "Hello there, Alice"):
            await sent.edit_text(text)

    app = await started_app(
        fake, CommandHandler("start", start), MessageHandler(filters.TEXT & ~filters.COMMAND, stream)
    )
    try:
        fake.user_sends(chat, alice, f"/start@{BOT_NAME} hello")
        fake.user_sends(chat, alice, "hi")
        await fake.wait_for_bot_message(chat, "Hello there, Alice", timeout=10)
        await fake.wait_for(lambda: seen_args, timeout=10)
    finally:
        await stop_app(app)
    assert seen_args == [["hello"]]
    [reply] = fake.bot_messages(chat)
    assert reply.text == "Hello there, Alice"
    assert [v.text for v in reply.versions] == ["Thinking", "Hello", "Hello there", "Hello there, Alice"]
    assert all(a.t <= b.t for a, b in zip(reply.versions, reply.versions[1:], strict=False))
    assert fake.count("getMe") == 1 and fake.count("deleteWebhook") == 1


async def test_entities_use_utf16_offsets(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    chat = fake.private_chat(alice)
    fake.user_sends(chat, alice, "😀 hey @someone_else and /help")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    parsed = update.message.parse_entities()
    assert sorted(parsed.values()) == ["/help", "@someone_else"]
    mention = next(e for e in update.message.entities if e.type == "mention")
    assert mention.offset == 7  # the emoji counts as 2 UTF-16 code units


async def test_forum_topic_messages_and_replies_carry_thread(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    forum = fake.add_group("Forum", members=[alice], bots=[BOT_NAME], forum=True, creator=alice)
    fake.set_privacy(BOT_NAME, False)
    topic = fake.create_topic(forum, "Roleplay")
    fake.user_sends(forum, alice, "in the topic", thread_id=topic)
    updates = await bot.get_updates(timeout=0)
    user_message = updates[-1].message
    assert user_message is not None and user_message.chat.is_forum
    assert (user_message.message_thread_id, user_message.is_topic_message) == (topic, True)

    answer = await user_message.reply_text("answer")  # PTB passes message_thread_id for topic messages
    assert answer.message_thread_id == topic
    fake.user_sends(forum, alice, "replying to the bot", thread_id=topic, reply_to=answer.message_id)
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    reply = updates[0].message
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.from_user is not None and reply.reply_to_message.from_user.id == bot.id
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=999)


async def test_send_edit_history_and_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    chat = fake.private_chat(alice, started=True)
    sent = await bot.send_message(alice.id, "one")
    edited = await bot.edit_message_text("two", chat_id=alice.id, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.edit_date is not None
    with pytest.raises(BadRequest) as caught:
        await bot.edit_message_text("two", chat_id=alice.id, message_id=sent.message_id)
    assert str(caught.value).startswith("Message is not modified")
    stored = fake.world.message(chat, sent.message_id)
    assert stored is not None and [v.text for v in stored.versions] == ["one", "two"]
    assert [r.text for r in fake.edits(stored)] == ["two"]
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=999)
    assert await bot.delete_message(alice.id, sent.message_id)
    assert fake.transcript(chat) == []


async def test_text_limits_apply_after_entity_parsing(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    fake.private_chat(alice, started=True)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "a" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "   ")
    accepted = await bot.send_message(alice.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert accepted.text == "a" * 4096 and accepted.entities[0].type == "bold"
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "<b>" + "a" * 4097 + "</b>", parse_mode="HTML")


@pytest.mark.parametrize(
    ("text", "parse_mode"),
    [("<b>unclosed", "HTML"), ("<blink>x</blink>", "HTML"), ("Hello.", "MarkdownV2"), ("*open", "MarkdownV2")],
)
async def test_broken_markup_cannot_parse_entities(fake: FakeTelegram, bot: Bot, text: str, parse_mode: str) -> None:
    alice = fake.add_user("Alice", "alice")
    fake.private_chat(alice, started=True)
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice.id, text, parse_mode=parse_mode)
    assert str(caught.value).startswith("Can't parse entities")


async def test_valid_markdown_v2_becomes_entities(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    fake.private_chat(alice, started=True)
    sent = await bot.send_message(alice.id, r"*bold* and _it_ done\.", parse_mode="MarkdownV2")
    assert sent.text == "bold and it done."
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4), ("italic", 9, 2)]


async def test_chat_access_errors(fake: FakeTelegram, bot: Bot) -> None:
    bob = fake.add_user("Bob", "bob")
    fake.private_chat(bob)
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(bob.id, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100123, "hi")
    stranger_group = fake.add_group("Not ours", members=[bob])
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(stranger_group.id, "hi")
    fake.user_sends(fake.private_chat(bob), bob, "/start")
    assert (await bot.send_message(bob.id, "now I may")).text == "now I may"
    fake.user_blocks_bot(bob)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(bob.id, "hi")


async def test_second_poller_terminates_the_first_with_conflict(fake: FakeTelegram, bot: Bot) -> None:
    account = fake.bot(TOKEN)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda: account.queue.polling, timeout=5)
    async with Bot(TOKEN, base_url=fake.base_url, request=direct_request(),
                   get_updates_request=direct_request()) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert fake.counters().conflicts == 1


async def test_commands_are_kept_per_scope(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Start"), ("reset", "Forget the chat")])
    await bot.set_my_commands([("summon", "Call a character")], scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in await bot.get_my_commands()] == ["start", "reset"]
    group_commands = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in group_commands] == ["summon"]
    assert fake.commands(scope={"type": "all_group_chats"}) == [
        {"command": "summon", "description": "Call a character"}
    ]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([("Bad Command!", "x")])


async def test_callback_query_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    chat = fake.private_chat(alice, started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Regenerate", callback_data="regen:1")]])
    sent = await bot.send_message(alice.id, "pick", reply_markup=keyboard)
    stored = fake.world.message(chat, sent.message_id)
    assert stored is not None
    query_id = fake.press_button(stored, alice, "regen:1")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None and update.callback_query.data == "regen:1"
    assert await update.callback_query.answer("ok")
    assert fake.callback_queries[query_id].answered
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)


async def test_chat_info_members_and_admins_parse_in_ptb(fake: FakeTelegram, bot: Bot) -> None:
    alice, bob = fake.add_user("Alice", "alice"), fake.add_user("Bob")
    group = fake.add_group("Club", members=[bob], bots=[BOT_NAME], creator=alice, admins=[fake.bot()],
                           supergroup=True)
    info = await bot.get_chat(group.id)
    assert (info.title, info.type) == ("Club", "supergroup")
    admins = await bot.get_chat_administrators(group.id)
    assert {type(a) for a in admins} == {ChatMemberOwner, ChatMemberAdministrator}
    assert (await bot.get_chat_member(group.id, bob.id)).status == "member"
    outsider = fake.add_user("Carol")
    assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"
    assert (await bot.get_chat_member(group.id, alice.id)).status == "creator"


async def test_send_chat_action_is_recorded(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    fake.private_chat(alice, started=True)
    assert await bot.send_chat_action(alice.id, "typing")
    with pytest.raises(BadRequest):
        await bot.send_chat_action(alice.id, "dancing")
    assert [(a.chat_id, a.action) for a in fake.chat_action_log] == [(alice.id, "typing")]


async def test_webhook_delivery_with_secret_and_conflict(fake: FakeTelegram, bot: Bot) -> None:
    received: asyncio.Queue[tuple[str, str | None, dict[str, object]]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put((request.headers["Content-Type"], request.headers.get(SECRET_HEADER),
                            await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        alice = fake.add_user("Alice", "alice")
        chat = fake.private_chat(alice)
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        fake.user_sends(chat, alice, "via webhook")
        content_type, secret, body = await asyncio.wait_for(received.get(), 5)
        assert (content_type, secret) == ("application/json", "s3cret")
        update = Update.de_json(body, bot)
        assert update.message is not None and update.message.text == "via webhook"
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        assert await bot.delete_webhook()
        fake.user_sends(chat, alice, "via polling")
        [polled] = await bot.get_updates(timeout=0)
        assert polled.message is not None and polled.message.text == "via polling"
    finally:
        await runner.cleanup()


async def test_webhook_keeps_updates_while_the_bot_is_down(fake: FakeTelegram, bot: Bot) -> None:
    probe = web.AppRunner(web.Application())
    await probe.setup()
    site = web.TCPSite(probe, "127.0.0.1", 0)
    await site.start()
    dead_port = probe.addresses[0][1]
    await probe.cleanup()  # nothing listens there any more
    alice = fake.add_user("Alice")
    chat = fake.private_chat(alice)
    assert await bot.set_webhook(f"http://127.0.0.1:{dead_port}/hook")
    fake.user_sends(chat, alice, "anyone there?")
    account = fake.bot(TOKEN)
    await fake.wait_for(lambda: account.webhook is not None and account.webhook.last_error_message, timeout=5)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1 and info.last_error_message
