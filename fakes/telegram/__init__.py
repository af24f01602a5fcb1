"""A fake Telegram Bot API server that the real python-telegram-bot (PTB 22) talks to unmodified.

Quick start (in-process, same event loop as the bot under test)::

    fake = FakeTelegram(time_scale=0.01)            # every flood window x 0.01
    bot = fake.add_bot("123:TEST", "CharBot")       # token, username (privacy mode on by default)
    await fake.start()                              # 127.0.0.1, ephemeral port
    app = ApplicationBuilder().token("123:TEST").base_url(fake.base_url) \\
        .request(HTTPXRequest(httpx_kwargs={"trust_env": False})).build()
    alice = fake.add_user("Alice", "alice")
    chat = fake.private_chat(alice)
    fake.user_sends(chat, alice, "/start@CharBot hi")
    await fake.wait_idle(chat, quiet=0.2)           # the bot's reply is final
    fake.transcript(chat)[-1].text
    await fake.stop()

Standalone: ``python -m fakes.telegram --port 8081 [--bot 123:TEST=CharBot] [--demo]
[--time-scale 0.1] [--no-flood] [--strict-tokens]``; base_url is ``http://127.0.0.1:8081/bot``.

Lifecycle (``FakeTelegram(*, time_scale=1.0, flood=FloodConfig(), accept_any_token=False,
validate_parse_mode=True, webhook_retry_delay=1.0, control_api=True, flood_clock=time.monotonic)``;
``flood_clock`` is the clock flood windows, penalties and storms are measured on: a test may pass a
manual clock to count exactly)
    ``await start(host="127.0.0.1", port=0) -> base_url``, ``await stop()``, ``async with FakeTelegram()``;
    ``base_url`` ("http://127.0.0.1:PORT/bot", for PTB's base_url), ``base_file_url``, ``url``, ``port``.

World building
    ``add_bot(token="123:TEST", username="TestBot", first_name=None, *, privacy=True, bot_id=None)``
        -> BotAccount (id = digits before the colon). ``bot(ref=None)`` finds one by account, token,
        username or id (None = the first bot).
    ``add_user(first_name="Alice", username=None, *, user_id=None, last_name=None)`` -> User.
    ``private_chat(user, bot=None, *, started=False)`` -> Chat (id = user id). Until the user writes
        (or ``started=True``) the bot gets 403 "bot can't initiate conversation with a user".
    ``add_group(title, *, members=(), bots=(), admins=(), creator=None, supergroup=False, forum=False,
        username=None)`` -> Chat. ``forum=True`` makes a forum supergroup.
    ``set_member(chat, user_or_bot, status)`` ("member", "administrator", "left", "kicked"),
    ``add_bot_to_group(chat, bot, admin=False)``, ``create_topic(chat, name) -> message_thread_id``,
    ``set_privacy(bot, enabled)``, ``user_blocks_bot(user, bot=None)``.

Acting as users (each enqueues an Update for every bot that may see it)
    ``user_sends(chat, user, text, *, reply_to=None, thread_id=None, entities=None) -> StoredMessage``:
        entities are detected like Telegram (bot_command incl. /cmd@Bot, mention, url, hashtag; UTF-16
        offsets). The text is trimmed as Telegram does; one no Telegram app can send raises ValueError
        (empty or only invisible characters, see texts.py; over 4096 characters). Given ``entities`` are kept
        (only moved by the trimming), to test a bot against odd ones. In a topic the message carries
        message_thread_id, is_topic_message and an implicit reply to the topic's creation message, as on
        Telegram.
    ``user_sends_media(chat, user, kind, *, caption=None, reply_to=None) -> StoredMessage``: a "photo",
        "sticker", "voice" or "document" (media.py), with an optional caption (at most 1024 characters; none
        on a sticker), delivered like a text with the caption as its text.
    ``user_edits(message, text)`` (an ``edited_message`` update), ``press_button(message, user, callback_data)
    -> callback query id``.
    Delivery: group privacy on = only /cmd@this_bot, bare /cmd if this bot was the last bot to write
    in the group (or none wrote yet), @mentions of the bot, replies to its messages, service messages;
    privacy off or bot is admin = everything. A bot never receives
    its own messages, nor other bots' messages.

Observing
    ``transcript(chat, include_deleted=False) -> list[StoredMessage]`` (users' and bots' messages in
    order). StoredMessage: ``text``, ``entities``, ``reply_markup``, ``sender``, ``from_bot``,
    ``versions`` (list of Revision(t=monotonic, date, text, entities, reply_markup), first = original),
    ``edits`` (versions[1:]), ``thread_id``, ``reply_to``, ``deleted``.
    ``bot_messages(chat, bot=None)``, ``world.message(chat, message_id)``, ``chat_action_log``
    (ChatActionRecord(t, bot_id, chat_id, action, thread_id)), ``callback_queries`` (id -> record with
    ``answered``/``answer_text``), ``drafts`` (sendMessageDraft), ``commands(bot=None, scope=None,
    language_code="")``, ``calls(method=None) -> [CallRecord(t, token, method, params, status,
    response)]``, ``count(method, status=None)``, ``counters() -> Counters`` (requests per method,
    statuses, too_many_requests, penalties, per-chat 429s and penalties, getUpdates conflicts,
    faults_injected).
    Waiting without blind sleeps (re-checked on every request and state change; TimeoutError):
    ``await wait_for(predicate, timeout=5.0)`` returns the first truthy value,
    ``await wait_for_call(method, predicate=None, *, timeout=5.0, after=0)``,
    ``await wait_for_bot_message(chat, text=None, *, timeout=5.0)``,
    ``await wait_idle(chat, quiet=0.2, timeout=5.0)`` (no bot write in the chat for ``quiet`` s).

Flood control and faults
    Per bot: every chat 1/s with a burst of 3; every group also at most 20 calls in any rolling 60 s; all
    chats together at most 30 calls in any rolling second. Sends, edits, chat actions and other writes
    count (``FloodConfig.counted_methods``). The rolling windows are as strict as Telegram: no calendar
    minute or second to hide a burst in. Exceeding answers 429 "Too Many Requests: retry after N" with
    ``parameters.retry_after``: N whole Telegram seconds (for a window: until its oldest call leaves it)
    times ``time_scale`` (an int when time_scale == 1, else a float; PTB's RetryAfter accepts both). A
    counted call to a chat before its last retry_after elapsed is a *penalty*: counted, and refused with
    the remaining time.
    ``configure_flood(**FloodConfig fields)`` (e.g. ``enabled=False``), ``flood.scaled(seconds)``,
    ``storm(chat=None, *, duration=None, probability=1.0, retry_after=1, seed=0)`` (429 on counted
    calls; duration in Telegram seconds; deterministic per seed), ``calm()``,
    ``inject_fault(method="*", *, status=400, description=..., chat=None, retry_after=None, times=1,
    delay=0.0, hold=False, text=None)`` (status 200 = only the delay, e.g. past PTB's read timeout -> TimedOut;
    ``hold``: wait until ``release_holds()``, e.g. to stop the bot mid-call; ``text``: only calls with exactly
    that text; ``rule.hits`` counts the calls caught).

Bot API methods served
    getMe, logOut, close, getUpdates (offset/limit/timeout/allowed_updates; a newer poll terminates the
    one in flight with 409), setWebhook/deleteWebhook/getWebhookInfo (delivery by POST with exact
    application/json and the secret header, retried while the bot is down), set/get/deleteMyCommands
    (per scope and language), getChat, getChatMember, getChatAdministrators, getChatMemberCount,
    sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage(s), sendChatAction,
    answerCallbackQuery, sendMessageDraft. Form, query, JSON and multipart bodies are all accepted.
    Errors: 400 message is not modified / message is too long (4096 code points after parse_mode
    parsing) / message text is empty / can't parse entities (HTML, MarkdownV2, Markdown) / chat not
    found / message to edit not found / message thread not found; 403 can't initiate conversation /
    blocked by the user / not a member; 401 unknown token; 404 unknown method.

HTTP control API (same driver, JSON): GET /_fake/state, POST /_fake/bots, /_fake/users, /_fake/chats,
/_fake/topics, /_fake/messages, /_fake/buttons, /_fake/flood, /_fake/storm (DELETE = calm),
/_fake/privacy, /_fake/faults, /_fake/release_holds; GET /_fake/transcript?chat_id=, /_fake/counters,
/_fake/calls?method=, /_fake/wait_idle?chat_id=&quiet=&timeout=. A positive chat_id is that user's private chat with
``bot`` (token/username; default the first bot). See control.py for the bodies.
"""

from .flood import FloodConfig
from .server import FakeTelegram
from .world import BotAccount, Chat, Revision, StoredMessage, User

__all__ = ["BotAccount", "Chat", "FakeTelegram", "FloodConfig", "Revision", "StoredMessage", "User"]
